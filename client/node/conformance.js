#!/usr/bin/env node
'use strict';
/**
 * Conformance of a live mechsolve server as a non-Python client sees it:
 *
 *     node conformance.js 127.0.0.1:50051 [--token T] [--root-cert ca.pem] [--no-auction]
 *
 * One line per check ("ok <name>: ..." or "FAIL <name>: ..."); exit status 1 when any check
 * fails, 2 on bad usage.
 */

const ms = require('./mechsolve');

function parseArgs(argv) {
  const opts = { address: null, token: null, rootCert: null, auction: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--token') opts.token = argv[++i];
    else if (a === '--root-cert') opts.rootCert = argv[++i];
    else if (a === '--no-auction') opts.auction = false;
    else if (!a.startsWith('--') && opts.address === null) opts.address = a;
    else return null;
  }
  return opts.address ? opts : null;
}

function assert(cond, what) {
  if (!cond) throw new Error(what);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) {
    console.error('usage: node conformance.js HOST:PORT [--token T] [--root-cert CA.pem] [--no-auction]');
    return 2;
  }
  const client = ms.connect(opts.address, { token: opts.token, rootCert: opts.rootCert, timeLimit: 20 });
  const pd = ms.prisonersDilemma();
  let failures = 0;
  const check = async (name, body) => {
    try {
      console.log(`ok ${name}: ${await body()}`);
    } catch (err) {
      failures += 1;
      const why = err && err.code !== undefined ? `${ms.decodeError(err).codeName}: ${err.details}` : String(err && err.message);
      console.log(`FAIL ${name}: ${why}`);
    }
  };

  // (a) grpc.health.v1 for the server as a whole and for one of the services.
  await check('health', async () => {
    const server = await client.health('');
    const mediators = await client.health('mechsolve.v1.MediatorService');
    assert(server === 'SERVING' && mediators === 'SERVING', `status ${server}, ${mediators}`);
    return 'SERVING';
  });

  // (b) Pareto Mediator on the prisoner's dilemma: both delegate at (D, D) -> (C, C).
  await check('pareto', async () => {
    const res = await client.mediate(pd, [1, 1], [true, true], { mediator: 'pareto' });
    const after = ms.toNumbers(res.actions_after);
    assert(res.mediator === 'MEDIATOR_KIND_PARETO', `mediator ${res.mediator}`);
    assert(same(ms.toNumbers(res.actions_before), [1, 1]), `actions_before ${res.actions_before}`);
    assert(same(after, [0, 0]), `actions_after ${JSON.stringify(res.actions_after)}`);
    assert(res.welfare_after === 4 && res.welfare_before === 2, `welfare ${res.welfare_before} -> ${res.welfare_after}`);
    assert(res.info.termination.reason === 'TERMINATION_REASON_OPTIMAL', `termination ${res.info.termination.reason}`);
    return `actions_after [${after}] welfare_after ${res.welfare_after}`;
  });

  // (c) The bidirectional stream: batch t + 1 is built from answer t (the mediated profiles
  // of round t, everyone delegating, plus the profile (D, C)), so it can only be sent after
  // answer t arrived; each answer must be to the batch just sent.
  await check('stream', async () => {
    const next = (answer) => {
      const actions = ms.fromTensor(answer.actions_after, ms.toNumber).concat([[1, 0]]);
      return [actions, actions.map((row) => row.map(() => true))];
    };
    let first = null;
    let last = null;
    const sent = [];
    async function* batches() {
      for (let t = 0; t < 3; t++) {
        const batch = t === 0 ? [[[1, 1], [0, 1]], [[true, true], [false, false]]] : next(last);
        sent.push(batch[0]);
        yield batch;
      }
    }
    const sizes = [];
    for await (const res of client.streamMediateBatch({ game: pd, mediator: 'pareto' }, batches(), { timeLimit: 10 })) {
      const t = sizes.length;
      assert(sent.length === t + 1, `batch ${t + 1} was pulled before answer ${t} was handed out`);
      assert(same(ms.fromTensor(res.actions_before, ms.toNumber), sent[t]), `answer ${t} is not to batch ${t}`);
      sizes.push(res.actions_before.shape[0]);
      if (t === 0) first = res;
      last = res;
    }
    assert(same(sizes, [2, 3, 4]), `answers of sizes ${JSON.stringify(sizes)}`);
    // round 0: (D, D) delegating -> (C, C); (C, D) not delegating stays
    assert(same(sent[1], [[0, 0], [0, 1], [1, 0]]), `batch 1 ${JSON.stringify(sent[1])}`);
    // rounds 1 and 2: nobody gains from (C, D) or (D, C) together, so they stay (the
    // Python solver answers the same)
    const final = ms.fromTensor(last.actions_after, ms.toNumber);
    assert(same(final, [[0, 0], [0, 1], [1, 0], [1, 0]]), `round 2 outcome ${JSON.stringify(final)}`);
    assert(same(last.welfare_after, [4, 3, 3, 3]), `round 2 welfare_after ${JSON.stringify(last.welfare_after)}`);
    // round 0's second profile has no delegator: its welfare is NaN (decoded as NaN)
    assert(Number.isNaN(first.welfare_after[1]) && first.welfare_after[0] === 4, `round 0 welfare_after ${first.welfare_after}`);
    return `3 batches, each built from the previous answer, answered in order (sizes ${sizes.join(', ')})`;
  });

  // (d) A bad request: INVALID_ARGUMENT with a google.rpc.BadRequest naming the field.
  await check('bad-request', async () => {
    let err = null;
    try {
      await client.mediate(pd, [1, 7], [true, true]);
    } catch (e) {
      err = e;
    }
    assert(err !== null, 'actions [1, 7] was accepted');
    const e = ms.decodeError(err);
    assert(e.codeName === 'INVALID_ARGUMENT', `status ${e.codeName}: ${e.message}`);
    assert(e.status !== null, 'no grpc-status-details-bin trailer');
    assert(e.status.code === err.code && e.status.message === err.details, 'trailer status differs from the call status');
    assert(e.field === 'actions[1]', `BadRequest field ${JSON.stringify(e.field)}`);
    return `INVALID_ARGUMENT field ${e.field}`;
  });

  // (d') The same in a stream message: the field is prefixed by the message's `batch`.
  await check('bad-stream-message', async () => {
    const stream = client.openMediateBatchStream({ game: pd }, { timeLimit: 10 });
    const first = await stream.send([[1, 1]], [[true, true]]);
    assert(same(ms.fromTensor(first.actions_after, ms.toNumber), [[0, 0]]), 'first answer');
    let err = null;
    try {
      await stream.send([[1, 1], [0, 7]], [[true, true], [true, true]]);
    } catch (e) {
      err = e;
    }
    assert(err !== null, 'actions [0, 7] was accepted');
    const e = ms.decodeError(err);
    assert(e.codeName === 'INVALID_ARGUMENT' && e.field === 'batch.actions[1][1]', `${e.codeName} field ${e.field}`);
    return `INVALID_ARGUMENT field ${e.field} after one answer`;
  });

  // (e) An auction: the optimal menu on the midpoint grid of U[0, 1] with K = 4 points.
  if (opts.auction) {
    await check('auction', async () => {
      const K = 4;
      const res = await client.call('OptimalMenu', { prior: { uniform_grid: { n_items: 1, points_per_item: K } } });
      assert(res.info.termination.reason === 'TERMINATION_REASON_OPTIMAL', `termination ${res.info.termination.reason}`);
      // Grid optimum: post the price 5/8 to the types 1/8, 3/8, 5/8, 7/8 -> 2/4 * 5/8 = 0.3125;
      // midpoint grids approach the continuous optimum 1/4 from above, within 1/K.
      assert(Math.abs(res.revenue - 0.3125) < 1e-6, `revenue ${res.revenue}`);
      assert(res.revenue >= 0.25 && res.revenue - 0.25 <= 1 / K, `revenue ${res.revenue} vs 1/4`);
      assert(res.verification.passed, 'verification failed');
      return `revenue ${res.revenue.toFixed(6)} (grid optimum 5/16; continuous optimum 0.25, K=${K})`;
    });
  }

  client.close();
  console.log(failures === 0 ? 'conformance: all checks passed' : `conformance: ${failures} check(s) failed`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exitCode = 1;
  },
);
