// effect's crypto modules name the WebCrypto type `JsonWebKey`, which lib.dom declares globally
// and @types/node only under `node:crypto`. Declaring it here keeps `skipLibCheck: false`
// without pulling the whole DOM library into a Node project.
// Likewise `Transferable`, named by effect's rpc worker types.
// Only this repository's own type-check needs these (its `lib` has no DOM); the package does not
// ship this file, and nothing it ships refers to it.
type JsonWebKey = import("node:crypto").webcrypto.JsonWebKey
type Transferable = import("node:worker_threads").Transferable
