'use strict';
/**
 * A small Node.js client of the mechsolve.v1 gRPC API (@grpc/grpc-js + @grpc/proto-loader).
 *
 * The mechsolve protos are loaded at run time from the repository's `proto/` folder (no code
 * generation, nothing copied); the health and google.rpc protos they need next to them are
 * vendored in `protos/` (see protos/README.md). Messages are plain JS objects with the protos'
 * field names (snake_case: `actions_after`, not `actionsAfter`), enums are their names
 * (`'MEDIATOR_KIND_PARETO'`), and every 64-bit integer of a response is a decimal string (see
 * LOADER_OPTIONS and `toNumber`).
 *
 *     const ms = require('./mechsolve');
 *     const client = ms.connect('127.0.0.1:50051');
 *     const res = await client.mediate(ms.game(payoffs), [1, 1], [true, true]);
 *     ms.toNumbers(res.actions_after);  // [0, 0]
 */

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

/** The repository's proto root (proto/mechsolve/v1/*.proto); MECHSOLVE_PROTO_DIR overrides it. */
const PROTO_DIR = process.env.MECHSOLVE_PROTO_DIR || path.resolve(__dirname, '..', '..', 'proto');
/** The vendored grpc.health.v1 and google.rpc protos. */
const VENDORED_DIR = path.join(__dirname, 'protos');

/**
 * How messages map to JS values (the same options for the whole package).
 *
 * int64 and uint64 (`longs: String`): every 64-bit integer of a response (actions,
 * Int64Tensor values, seeds, counters such as `ic_rows`) is a decimal string, exact over the
 * whole range. `longs: Number` would round anything beyond 2^53 - 1 to the nearest double
 * without a word; that never happens to actions or counts, but a seed drawn from fresh entropy
 * is any integer in [0, 2^63) and would come back as another seed. Use `toNumber` /
 * `toNumbers`, which refuse (RangeError) rather than round; pass seeds back as the strings.
 * Requests accept a number, a decimal string, a BigInt or a Long for a 64-bit field.
 */
const LOADER_OPTIONS = Object.freeze({
  keepCase: true, // the protos' field names, as docs/api.md spells them
  longs: String,
  enums: String, // 'MEDIATOR_KIND_PARETO'; requests accept the name or the number
  defaults: true, // unset scalars are their zero value, unset messages null, repeated []
  oneofs: true, // Prior.source names the set member of the oneof
  includeDirs: [PROTO_DIR, VENDORED_DIR],
});

/** Default per-call (or per-stream-message) deadline in seconds, as the Python clients'. */
const DEFAULT_TIME_LIMIT = 30;
/** Largest message either way: the server's default (grpc-js would take only 4 MiB). */
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Metadata key of a stream's per-message deadline (seconds). */
const STREAM_TIME_LIMIT_METADATA = 'mechsolve-time-limit';

let loaded = null;

/**
 * The loaded protos: {definition (proto-loader's, by full name), objects (grpc-js's), methods
 * (RPC name -> service name)}.
 */
function load() {
  if (loaded) return loaded;
  const v1 = path.join(PROTO_DIR, 'mechsolve', 'v1');
  const files = fs
    .readdirSync(v1)
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `mechsolve/v1/${f}`);
  const vendored = ['grpc/health/v1/health.proto', 'google/rpc/status.proto', 'google/rpc/error_details.proto'];
  const definition = protoLoader.loadSync([...files, ...vendored], LOADER_OPTIONS);
  const objects = grpc.loadPackageDefinition(definition);
  const methods = {};
  for (const [name, service] of Object.entries(objects.mechsolve.v1)) {
    if (typeof service !== 'function' || !service.service) continue;
    for (const method of Object.keys(service.service)) methods[method] = name;
  }
  loaded = { definition, objects, methods };
  return loaded;
}

/**
 * proto-loader's definition of a message or enum (full name, or relative to the package
 * `scope`) and its full name.
 */
function lookup(name, scope = 'mechsolve.v1') {
  const { definition } = load();
  const bare = name.replace(/^\./, '');
  for (const full of [`${scope}.${bare}`, bare]) {
    if (definition[full]) return { def: definition[full], full };
  }
  throw new TypeError(`no message or enum ${name} in the loaded protos`);
}

// ---------------------------------------------------------------------------------------------
// Tensors and games

/** The shape of a nested, rectangular JS array (a scalar has shape []). */
function shapeOf(nested) {
  const shape = [];
  let x = nested;
  while (Array.isArray(x)) {
    shape.push(x.length);
    x = x[0];
  }
  return shape;
}

function flatten(nested, kind) {
  const shape = shapeOf(nested);
  const values = [];
  const walk = (x, depth, where) => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new TypeError(`${kind}: ragged array at ${where}`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new TypeError(`${kind}: ragged array at ${where} (expected ${shape[depth]} entries)`);
    }
    x.forEach((y, i) => walk(y, depth + 1, `${where}[${i}]`));
  };
  walk(nested, 0, '');
  return { shape, values };
}

/** A `Tensor` (float64) from nested arrays: shape outermost first, values in C order. */
function tensor(nested) {
  const t = flatten(nested, 'Tensor');
  for (const v of t.values) {
    if (typeof v !== 'number') throw new TypeError(`Tensor: ${JSON.stringify(v)} is not a number`);
  }
  return t;
}

/** An `Int64Tensor` from nested arrays of integers (numbers, decimal strings or BigInts). */
function int64Tensor(nested) {
  const t = flatten(nested, 'Int64Tensor');
  t.values = t.values.map(checkInteger);
  return t;
}

/** A `BoolTensor` from nested arrays of booleans (or 0/1). */
function boolTensor(nested) {
  const t = flatten(nested, 'BoolTensor');
  t.values = t.values.map((v) => {
    if (v === true || v === 1) return true;
    if (v === false || v === 0) return false;
    throw new TypeError(`BoolTensor: ${JSON.stringify(v)} is not a boolean`);
  });
  return t;
}

/**
 * Nested arrays from a decoded Tensor / Int64Tensor / BoolTensor ({shape, values}). 64-bit
 * values stay strings unless `convert` (e.g. `toNumber`) is given.
 */
function fromTensor(t, convert = (v) => v) {
  const values = t.values.map(convert);
  const shape = t.shape.map(Number);
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length !== size) throw new RangeError(`tensor of shape [${shape}] has ${values.length} values`);
  const build = (depth, offset) => {
    if (depth === shape.length) return values[offset];
    const stride = shape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[depth] }, (_, i) => build(depth + 1, offset + i * stride));
  };
  return build(0, 0);
}

/**
 * A `Game` message. `payoffs` is nested arrays of shape (n_players, k_1, ..., k_n):
 * payoffs[i][a_1]...[a_n] is player i's utility (the Tensor is built in C order).
 */
function game(payoffs, { players = [], actions = [], title = '' } = {}) {
  const t = tensor(payoffs);
  if (t.shape.length < 2 || t.shape[0] !== t.shape.length - 1) {
    throw new RangeError(`game: payoffs must have shape (n, k_1, ..., k_n); got [${t.shape}]`);
  }
  return { payoffs: t, players, actions: actions.map((labels) => ({ labels })), title };
}

/** The prisoner's dilemma of seed 000 (Table 1); action 0 = C, 1 = D. */
function prisonersDilemma() {
  const u = { '0,0': [2, 2], '0,1': [0, 3], '1,0': [3, 0], '1,1': [1, 1] };
  const payoffs = [0, 1].map((i) => [0, 1].map((a1) => [0, 1].map((a2) => u[`${a1},${a2}`][i])));
  return game(payoffs, {
    players: ['1', '2'],
    actions: [['C', 'D'], ['C', 'D']],
    title: "Prisoner's Dilemma (seed 000 Table 1)",
  });
}

// ---------------------------------------------------------------------------------------------
// 64-bit integers and enums

/**
 * A 64-bit value of a response (decimal string, number, BigInt or Long) as a Number; a
 * RangeError beyond +-(2^53 - 1), where a Number can no longer hold every integer.
 */
function toNumber(v) {
  const big = BigInt(typeof v === 'object' && v !== null ? v.toString() : v);
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${big} does not fit a Number exactly (|v| > 2^53 - 1): keep it a string or BigInt`);
  }
  return Number(big);
}

/** `toNumber` of every element. */
function toNumbers(values) {
  return Array.from(values, toNumber);
}

/**
 * An integer for a 64-bit request field, checked: protobufjs would truncate 1.5 to 1 and
 * silently round a Number beyond 2^53 - 1, so those are refused here (pass a decimal string
 * or a BigInt beyond 2^53).
 */
function checkInteger(v, where = 'value') {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    throw new RangeError(`${where}: ${v} is not an integer a Number holds exactly (pass a string or BigInt)`);
  }
  if (typeof v === 'string' && !/^-?\d+$/.test(v)) throw new TypeError(`${where}: ${JSON.stringify(v)} is not an integer`);
  if (!['number', 'string', 'bigint'].includes(typeof v)) throw new TypeError(`${where}: ${String(v)} is not an integer`);
  return v;
}

/**
 * An enum value on the wire: the enum's prefix + the member name (docs/api.md).
 * `enumValue('MEDIATOR_KIND', 'pareto')` is 'MEDIATOR_KIND_PARETO'; a full name or a number
 * passes through, undefined is 0 (`*_UNSPECIFIED`: the function's default). `checkRequest`
 * refuses a name the enum does not have (protobufjs would send 0, the default, instead).
 */
function enumValue(prefix, member) {
  if (member === undefined || member === null) return 0;
  if (typeof member === 'number') return member;
  const name = String(member).toUpperCase();
  return name.startsWith(`${prefix}_`) ? name : `${prefix}_${name}`;
}

/** A `Welfare` message from 'nash' or {kind: 'nash', weights, disagreement, beta}. */
function welfare(w) {
  if (w === undefined || w === null) return null;
  const spec = typeof w === 'string' ? { kind: w } : { ...w };
  spec.kind = enumValue('WELFARE_KIND', spec.kind);
  return spec;
}

const INT32 = ['TYPE_INT32', 'TYPE_SINT32', 'TYPE_SFIXED32'];
const UINT32 = ['TYPE_UINT32', 'TYPE_FIXED32'];
const INT64 = ['TYPE_INT64', 'TYPE_SINT64', 'TYPE_SFIXED64'];
const UINT64 = ['TYPE_UINT64', 'TYPE_FIXED64'];

function checkScalar(field, v, where, scope) {
  const t = field.type;
  if (t === 'TYPE_DOUBLE' || t === 'TYPE_FLOAT') {
    if (typeof v !== 'number') throw new TypeError(`${where}: ${JSON.stringify(v)} is not a number`);
  } else if (t === 'TYPE_BOOL') {
    if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw new TypeError(`${where}: ${JSON.stringify(v)} is not a boolean`);
  } else if (t === 'TYPE_STRING') {
    if (typeof v !== 'string') throw new TypeError(`${where}: ${JSON.stringify(v)} is not a string`);
  } else if (INT32.includes(t) || UINT32.includes(t)) {
    // protobufjs would wrap -1 to 4294967295 (uint32) and truncate 1.5 to 1
    const [lo, hi] = UINT32.includes(t) ? [0, 2 ** 32 - 1] : [-(2 ** 31), 2 ** 31 - 1];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${where}: ${JSON.stringify(v)} is not an integer in [${lo}, ${hi}]`);
  } else if (INT64.includes(t) || UINT64.includes(t)) {
    checkInteger(v, where);
    if (UINT64.includes(t) && BigInt(v) < 0n) throw new RangeError(`${where}: ${v} is negative`);
  } else if (t === 'TYPE_ENUM') {
    const members = lookup(field.typeName, scope).def.type.value;
    if (!members.some((m) => m.name === v || m.number === v)) {
      throw new TypeError(`${where}: ${JSON.stringify(v)} is not one of ${members.map((m) => m.name).join(', ')}`);
    }
  }
}

/**
 * Checks a request object against its message type before protobufjs encodes it (protobufjs
 * drops unknown keys, sends 0 for an unknown enum name, truncates 1.5 to 1 and wraps -1 in a
 * uint32 field, all without a word): a TypeError or RangeError naming the field path
 * otherwise. `typeName` is e.g. 'MediateRequest' (mechsolve.v1) or a full name.
 */
function checkRequest(typeName, obj, where = typeName.split('.').pop(), scope = 'mechsolve.v1') {
  const { def, full } = lookup(typeName, scope);
  const inner = full.slice(0, full.lastIndexOf('.')); // the package, for relative type names
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TypeError(`${where}: expected an object (message ${typeName}); got ${JSON.stringify(obj)}`);
  }
  const fields = new Map(def.type.field.map((f) => [f.name, f]));
  const oneofs = new Set(def.type.oneofDecl.map((o) => o.name)); // virtual properties (oneofs: true)
  for (const [key, value] of Object.entries(obj)) {
    const field = fields.get(key);
    if (!field) {
      if (oneofs.has(key)) continue;
      throw new TypeError(`${where}: ${typeName.split('.').pop()} has no field ${JSON.stringify(key)} (fields: ${[...fields.keys()].join(', ')})`);
    }
    if (value === undefined || value === null) continue;
    const path = `${where}.${key}`;
    const one = (v, p) =>
      field.type === 'TYPE_MESSAGE' ? checkRequest(field.typeName, v, p, inner) : checkScalar(field, v, p, inner);
    if (field.label === 'LABEL_REPEATED') {
      if (!Array.isArray(value) && !ArrayBuffer.isView(value)) throw new TypeError(`${path}: expected an array`);
      Array.prototype.forEach.call(value, (v, i) => one(v, `${path}[${i}]`));
    } else {
      one(value, path);
    }
  }
  return obj;
}

// ---------------------------------------------------------------------------------------------
// Errors

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

/**
 * What a failed call says: {code, codeName, message, status, details, fieldViolations, field}.
 * `status` is the google.rpc.Status decoded from the `grpc-status-details-bin` trailer (null
 * without one: DEADLINE_EXCEEDED, UNAVAILABLE, grpc's own limits, a client-side error),
 * `details` its Any entries unpacked when their type is in the loaded protos (a BadRequest is
 * {'@type': 'google.rpc.BadRequest', field_violations}), `fieldViolations` every
 * BadRequest's {field, description, ...}, `field` the first one's field (e.g. 'actions[1]',
 * 'batch.actions[0][1]' in a stream).
 */
function decodeError(err) {
  const out = {
    code: err.code,
    codeName: CODE_NAMES[err.code] || String(err.code),
    message: err.details === undefined ? String(err.message) : err.details,
    status: null,
    details: [],
    fieldViolations: [],
    field: null,
  };
  const raw = err.metadata && typeof err.metadata.get === 'function' ? err.metadata.get('grpc-status-details-bin') : [];
  if (!raw || raw.length === 0) return out;
  const { definition } = load();
  out.status = definition['google.rpc.Status'].deserialize(raw[0]);
  for (const any of out.status.details) {
    const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    const type = definition[typeName];
    if (!type || typeof type.deserialize !== 'function') {
      out.details.push(any);
      continue;
    }
    const detail = { '@type': typeName, ...type.deserialize(any.value) };
    out.details.push(detail);
    if (typeName === 'google.rpc.BadRequest') out.fieldViolations.push(...detail.field_violations);
  }
  if (out.fieldViolations.length > 0) out.field = out.fieldViolations[0].field;
  return out;
}

/** A client-side per-message timeout of a stream, shaped like a grpc-js ServiceError. */
function lateError(seconds) {
  const err = new Error(`4 DEADLINE_EXCEEDED: no answer to a stream message within ${seconds} s`);
  err.code = grpc.status.DEADLINE_EXCEEDED;
  err.details = `no answer to a stream message within ${seconds} s`;
  err.metadata = new grpc.Metadata();
  return err;
}

// ---------------------------------------------------------------------------------------------
// The client

function readPem(x) {
  if (x === undefined || x === null) return null;
  return Buffer.isBuffer(x) ? x : fs.readFileSync(x);
}

/**
 * A client of the server at `address` ('host:port').
 *
 * Options: `token` (sent as `authorization: Bearer <token>`), `rootCert` (PEM Buffer or file
 * path: TLS, verifying the server against it), `privateKey` and `certChain` (mutual TLS),
 * `maxMessageBytes` (default 64 MiB, the server's default; grpc-js would otherwise refuse
 * responses over 4 MiB with RESOURCE_EXHAUSTED), `timeLimit` (default 30 s per call),
 * `channelOptions` (more grpc-js channel options).
 */
function connect(address, opts = {}) {
  return new MechsolveClient(address, opts);
}

class MechsolveClient {
  constructor(address, opts = {}) {
    const {
      token = null,
      rootCert = null,
      privateKey = null,
      certChain = null,
      maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
      timeLimit = DEFAULT_TIME_LIMIT,
      channelOptions = {},
    } = opts;
    const { objects, methods } = load();
    const tls = rootCert !== null || privateKey !== null;
    this.credentials = tls
      ? grpc.credentials.createSsl(readPem(rootCert), readPem(privateKey), readPem(certChain))
      : grpc.credentials.createInsecure();
    this.channelOptions = {
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      ...channelOptions,
    };
    this.address = address;
    this.token = token;
    this.timeLimit = timeLimit;
    this.methods = methods;
    this.stubs = {};
    this.definitions = {}; // service name -> its methods' definitions
    // One channel for every service: the first stub's channel is shared with the others.
    let channel = null;
    const services = { ...objects.mechsolve.v1, Health: objects.grpc.health.v1.Health };
    for (const [name, Service] of Object.entries(services)) {
      if (typeof Service !== 'function' || !Service.service) continue;
      const stub = channel
        ? new Service(address, this.credentials, { ...this.channelOptions, channelOverride: channel })
        : new Service(address, this.credentials, this.channelOptions);
      channel = channel || stub.getChannel();
      this.stubs[name] = stub;
      this.definitions[name] = Service.service;
    }
  }

  /** Call metadata: the bearer token, if any. */
  metadata() {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  /** The server's health ('SERVING', 'NOT_SERVING', ...) for `service` ('' = the server). */
  health(service = '', { timeLimit = 5 } = {}) {
    return this.unaryOn('Health', 'Check', { service }, { timeLimit }).then((r) => r.status);
  }

  /**
   * Any unary RPC by its method name ('Mediate', 'OptimalMenu', ...) with a request object
   * (checked with `checkRequest` first); resolves to the response's `result`. `timeLimit`
   * (seconds) is the call's deadline.
   */
  async call(method, request, { timeLimit } = {}) {
    const service = this.methods[method];
    if (!service) throw new TypeError(`no RPC named ${method} in mechsolve.v1`);
    checkRequest(this.definitions[service][method].requestType.type.name, request);
    const response = await this.unaryOn(service, method, request, { timeLimit });
    return response.result;
  }

  unaryOn(service, method, request, { timeLimit } = {}) {
    const seconds = timeLimit === undefined || timeLimit === null ? this.timeLimit : timeLimit;
    const stub = this.stubs[service];
    return new Promise((resolve, reject) => {
      stub[method](request, this.metadata(), { deadline: Date.now() + seconds * 1000 }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  /**
   * mediate(game, actions, delegate, {mediator, welfare, method, solver, timeLimit}): one
   * profile's mediated outcome (a MediatorResult object). `mediator` 'pareto' (default),
   * 'punishing' or 'central_planner'; `welfare` 'utilitarian', 'nash', ... or a Welfare
   * object; `method` 'enumeration' (default), 'milp' or 'pyomo'.
   */
  mediate(game, actions, delegate, { mediator, welfare: w, method, solver = '', timeLimit } = {}) {
    const request = {
      game,
      actions: Array.from(actions),
      delegate: Array.from(delegate),
      mediator: enumValue('MEDIATOR_KIND', mediator),
      welfare: welfare(w),
      method: enumValue('MEDIATOR_METHOD', method),
      solver,
    };
    return this.call('Mediate', request, { timeLimit });
  }

  /**
   * A StreamMediateBatch session: `send(actions, delegate)` sends one batch (actions and
   * delegate bits of shape (m, n), nested arrays) and resolves to its BatchResult;
   * `close()` ends the stream and resolves once the server has closed it with OK.
   * `shared` holds the arguments every batch shares ({game, mediator, welfare, method,
   * solver}); `timeLimit` (seconds, default 30) is each message's deadline: sent as the
   * `mechsolve-time-limit` metadata (the server's solve budget per message) and enforced here
   * (no answer in time: the call is cancelled and send rejects with DEADLINE_EXCEEDED). The
   * stream as a whole has no deadline. Send the next batch after the previous answer.
   */
  openMediateBatchStream(shared, { timeLimit } = {}) {
    const seconds = timeLimit === undefined || timeLimit === null ? this.timeLimit : timeLimit;
    if (!(seconds > 0 && Number.isFinite(seconds))) throw new RangeError(`timeLimit must be > 0; got ${seconds}`);
    const base = {
      game: shared.game,
      mediator: enumValue('MEDIATOR_KIND', shared.mediator),
      welfare: welfare(shared.welfare),
      method: enumValue('MEDIATOR_METHOD', shared.method),
      solver: shared.solver || '',
    };
    const md = this.metadata();
    md.set(STREAM_TIME_LIMIT_METADATA, String(seconds));
    const call = this.stubs[this.methods.StreamMediateBatch].StreamMediateBatch(md);
    const answers = []; // responses not yet asked for
    let waiting = null; // {resolve, reject, timer} of the pending send
    let failure = null; // the call's error, once it failed
    let ended = false;
    let closed = null; // {resolve, reject} of close()
    const settle = () => {
      if (waiting && (answers.length > 0 || failure || ended)) {
        const w = waiting;
        waiting = null;
        clearTimeout(w.timer);
        if (answers.length > 0) w.resolve(answers.shift().result);
        else w.reject(failure || new Error('the server ended the stream without an answer'));
      }
      if (closed && (failure || ended)) (failure ? closed.reject : closed.resolve)(failure);
    };
    call.on('data', (response) => {
      answers.push(response);
      settle();
    });
    call.on('error', (err) => {
      failure = failure || err;
      settle();
    });
    call.on('end', () => {
      ended = true;
      settle();
    });
    return {
      send(actions, delegate) {
        if (failure) return Promise.reject(failure);
        if (waiting) return Promise.reject(new Error('send: the previous batch is still unanswered'));
        let request;
        try {
          request = checkRequest('StreamMediateBatchRequest', {
            batch: { ...base, actions: int64Tensor(actions), delegate: boolTensor(delegate) },
          });
        } catch (err) {
          return Promise.reject(err);
        }
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            failure = lateError(seconds);
            call.cancel();
            settle();
          }, seconds * 1000);
          waiting = { resolve, reject, timer };
          call.write(request);
          settle();
        });
      },
      close() {
        call.end();
        return new Promise((resolve, reject) => {
          closed = { resolve, reject };
          settle();
        });
      },
      cancel() {
        call.cancel();
      },
    };
  }

  /**
   * streamMediateBatch(shared, batches, {timeLimit}): an async generator of BatchResults, one
   * per element [actions, delegate] of the (async) iterable `batches`, in order. Batch t+1 is
   * pulled from `batches` only after answer t has been handed out, so a generator can build
   * each batch from the previous answer. Breaking out of the loop cancels the stream.
   */
  async *streamMediateBatch(shared, batches, { timeLimit } = {}) {
    const stream = this.openMediateBatchStream(shared, { timeLimit });
    let done = false;
    try {
      for await (const [actions, delegate] of batches) {
        yield await stream.send(actions, delegate);
      }
      await stream.close();
      done = true;
    } finally {
      if (!done) stream.cancel();
    }
  }

  close() {
    for (const stub of Object.values(this.stubs)) stub.close();
  }
}

module.exports = {
  connect,
  MechsolveClient,
  LOADER_OPTIONS,
  PROTO_DIR,
  VENDORED_DIR,
  DEFAULT_TIME_LIMIT,
  DEFAULT_MAX_MESSAGE_BYTES,
  STREAM_TIME_LIMIT_METADATA,
  load,
  tensor,
  int64Tensor,
  boolTensor,
  fromTensor,
  game,
  prisonersDilemma,
  toNumber,
  toNumbers,
  enumValue,
  welfare,
  checkRequest,
  lookup,
  decodeError,
  grpc,
};
