// Attachment upload with a progress bar. Progressive enhancement: without JavaScript the form posts as plain
// multipart with the CSRF token in its action URL; with it, the file goes through XHR with the token in the
// X-CSRF-Token header, and the progress is shown while the bytes are sent.
(function () {
  'use strict';
  function safePath(p) {
    return typeof p === 'string' && p.charAt(0) === '/' && p.charAt(1) !== '/' && p.charAt(1) !== '\\' ? p : null;
  }
  document.querySelectorAll('form[data-upload]').forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var box = form.querySelector('.upload-progress');
    var bar = form.querySelector('progress');
    var percent = form.querySelector('.upload-percent');
    var errorBox = form.querySelector('.upload-error');
    function reset() {
      form.dataset.submitting = '';
      form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.disabled = false; });
    }
    function showError(message) {
      if (box) box.hidden = true;
      if (errorBox) {
        errorBox.textContent = message;
        errorBox.hidden = false;
        errorBox.setAttribute('tabindex', '-1');
        errorBox.focus();
      }
      reset();
    }
    form.addEventListener('submit', function (event) {
      if (!window.FormData || !window.XMLHttpRequest || !input || !input.files || input.files.length === 0) return;
      event.preventDefault();
      if (errorBox) errorBox.hidden = true;
      if (box) box.hidden = false;
      if (bar) bar.value = 0;
      if (percent) percent.textContent = '0%';
      var xhr = new XMLHttpRequest();
      xhr.open('POST', form.getAttribute('action').split('?')[0]);
      xhr.setRequestHeader('X-CSRF-Token', form.dataset.csrf || '');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.min(100, Math.round((e.loaded * 100) / e.total));
        if (bar) bar.value = pct;
        if (percent) percent.textContent = pct + '%';
      });
      xhr.addEventListener('load', function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300 && data && data.ok) {
          var target = safePath(data.redirect);
          if (target) window.location.assign(target); else window.location.reload();
          return;
        }
        showError(data && data.ok === false && typeof data.error === 'string' ? data.error : form.dataset.msgFailed || '');
      });
      xhr.addEventListener('error', function () { showError(form.dataset.msgNetwork || ''); });
      xhr.addEventListener('abort', function () { showError(form.dataset.msgNetwork || ''); });
      xhr.send(new FormData(form));
    });
  });
})();
