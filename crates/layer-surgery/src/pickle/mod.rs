//! A restricted pickle reader and a protocol-2 pickle writer for `torch.save` files.
//!
//! The reader is a small stack machine that understands the opcodes tensor files
//! use and interprets a fixed allow-list of globals (`collections.OrderedDict`, the
//! `torch._utils` tensor rebuild functions, `torch.*Storage` classes and
//! `_codecs.encode`) as data constructors. Any other global or opcode is an error
//! naming it, unless foreign objects are allowed: then other classes and the
//! objects made from them are recorded as inert placeholders, except for a
//! denylist of names that run code. Nothing in a file is ever executed. Input
//! lengths are checked against the bytes present before anything is allocated.

mod containers;
mod convert;
mod decode;
mod denylist;
mod error;
mod foreign;
mod machine;
mod objects;
mod opcodes;
mod reduce;
mod strided;
mod writer;

pub use error::PickleError;

pub(crate) use convert::{Origin, StorageSource, to_value};
#[cfg(test)]
pub(crate) use machine::unpickle;
pub(crate) use machine::{Unpickled, unpickle_with};
pub(crate) use objects::{Obj, StorageRef};
#[cfg(test)]
pub(crate) use writer::Pickled;
pub(crate) use writer::pickle;

#[cfg(test)]
mod foreign_tests;
#[cfg(test)]
mod tests;
