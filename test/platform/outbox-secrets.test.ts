import { expect } from 'chai';
import supertest from 'supertest';
import { platform, resetDb, testConfig } from '../support/platform.js';
import { makeUser, PASSWORD } from '../support/factories.js';
import { createApp } from '../../server/app.js';
import { OutboxMessage } from '../../server/platform/mail/outbox.js';

async function adminAgentOn(smtpUrl: string | undefined) {
  const p = await platform();
  const config = testConfig(smtpUrl ? { SMTP_URL: smtpUrl } : {});
  const { app } = createApp({ config, sequelize: p.sequelize, logger: p.logger, kickOutbox: () => {} });
  const agent = supertest.agent(app);
  const page = await agent.get('/login');
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
  await agent.post('/login').type('form').send({ _csrf: token, email: 'root@example.org', password: PASSWORD }).expect(303);
  return agent;
}

describe('outbox page and mailed links', () => {
  beforeEach(resetDb);

  async function queueReset() {
    await makeUser({ email: 'root@example.org', roles: [{ role: 'admin' }] });
    await makeUser({ email: 'victim@example.org' });
    const anon = supertest.agent((await platform()).app);
    const page = await anon.get('/password/forgot');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    await anon.post('/password/forgot').type('form').send({ _csrf: token, email: 'victim@example.org' }).expect(200);
    return (await OutboxMessage.findOne({ where: { toAddress: 'victim@example.org' } }))!;
  }

  it('hides a reset link from admins when mail is really delivered', async () => {
    const m = await queueReset();
    const agent = await adminAgentOn('smtp://127.0.0.1:2525');
    const res = await agent.get(`/admin/outbox/${m.id}`);
    expect(res.status).to.equal(200);
    expect(res.text).not.to.contain('/password/reset/');
  });

  it('shows it in the offline demo, where the outbox is the only way to read mail', async () => {
    const m = await queueReset();
    const agent = await adminAgentOn(undefined);
    const res = await agent.get(`/admin/outbox/${m.id}`);
    expect(res.text).to.contain('/password/reset/');
  });
});
