// effect's crypto modules name the WebCrypto type `JsonWebKey`, which lib.dom declares globally
// and @types/node only under `node:crypto`. Declaring it here keeps `skipLibCheck: false`
// without pulling the whole DOM library into a Node project.
type JsonWebKey = import("node:crypto").webcrypto.JsonWebKey
// Likewise `Transferable`, named by effect's rpc worker types.
type Transferable = import("node:worker_threads").Transferable
