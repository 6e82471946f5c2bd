//! The op model and its generators: what a case is made of (`ops`), the hostile id universe
//! values are drawn from (`universe`), seeded proptest generation (`generate`), the pass that
//! aims a generated case at what it wrote (`aim`), the large tail (`tail`), swarm cases that leave kinds out (`swarm`), the concurrent mode's writers and reader scripts (`reads`), their seeded draws (`rng`) and the fuzzer's `Arbitrary` form
//! (`arbitrary`). Nothing here runs an engine.

pub mod aim;
pub mod arbitrary;
pub mod generate;
pub mod kv;
pub mod ops;
pub mod reads;
pub mod rng;
pub mod swarm;
pub mod tail;
pub mod universe;
