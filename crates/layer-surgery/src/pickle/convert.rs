//! Turning the unpickler's object arena into a [`Value`] tree, loading each
//! tensor's storage and copying the tensor out of it.

use super::PickleError;
use super::machine::Unpickled;
use super::objects::{ForeignObj, Id, Obj, StorageRef};
use super::strided;
use crate::error::{Error, Result};
use crate::foreign::ForeignObject;
use crate::tensor::Tensor;
use crate::value::{Dict, Value};

/// Maximum container nesting. Checkpoints nest fewer than ten levels, and
/// the bound also stops containers that contain themselves.
pub(crate) const MAX_DEPTH: usize = 128;

/// Cost charged per value node against the output budget, close to the size of
/// a [`Value`] in memory.
const NODE_COST: usize = 64;

/// Provides the bytes of the storages a pickle declared.
pub(crate) trait StorageSource {
    /// Returns exactly `storage.byte_len()` bytes, or an error naming the storage.
    fn load(&mut self, storage: &StorageRef) -> Result<&[u8]>;
}

/// Where the pickle came from, for error messages.
pub(crate) struct Origin<'a> {
    pub file: &'a str,
    pub part: &'a str,
}

impl Origin<'_> {
    fn error(&self, detail: String) -> Error {
        Error::Pickle {
            origin: self.file.to_owned(),
            part: self.part.to_owned(),
            source: PickleError::Structure { detail },
        }
    }
}

/// Converts the root object. `budget` bounds the bytes the tree may occupy, so that
/// a small file that references one object many times cannot expand without limit.
pub(crate) fn to_value(
    unpickled: &Unpickled,
    source: &mut dyn StorageSource,
    budget: usize,
    origin: &Origin<'_>,
) -> Result<Value> {
    let mut converter = Converter {
        objects: &unpickled.objects,
        storages: &unpickled.storages,
        source,
        budget,
        origin,
        allow_foreign: unpickled.allow_foreign,
    };
    converter.value(unpickled.root, 0)
}

struct Converter<'a> {
    objects: &'a [Obj],
    storages: &'a [StorageRef],
    source: &'a mut dyn StorageSource,
    budget: usize,
    origin: &'a Origin<'a>,
    allow_foreign: bool,
}

impl Converter<'_> {
    fn charge(&mut self, bytes: usize) -> Result<()> {
        match self.budget.checked_sub(bytes) {
            Some(rest) => {
                self.budget = rest;
                Ok(())
            }
            None => Err(self.origin.error(
                "the objects expand to far more data than the file holds (an object is \
                 referenced too many times)"
                    .into(),
            )),
        }
    }

    fn value(&mut self, id: Id, depth: usize) -> Result<Value> {
        if depth > MAX_DEPTH {
            return Err(self.origin.error(format!(
                "containers are nested deeper than {MAX_DEPTH} levels or contain themselves"
            )));
        }
        self.charge(NODE_COST)?;
        let objects = self.objects;
        Ok(match &objects[id] {
            Obj::None => Value::None,
            Obj::Bool(flag) => Value::Bool(*flag),
            Obj::Int(number) => Value::Int(*number),
            Obj::BigInt(bytes) => {
                return Err(self.origin.error(format!(
                    "an integer of {} bytes does not fit in 64 bits",
                    bytes.len()
                )));
            }
            Obj::Float(number) => Value::Float(*number),
            Obj::Str(text) => {
                self.charge(text.len())?;
                Value::Str(text.clone())
            }
            Obj::Bytes(bytes) => {
                self.charge(bytes.len())?;
                Value::Bytes(bytes.clone())
            }
            Obj::List(items) => Value::List(self.values(items, depth)?),
            Obj::Tuple(items) => Value::Tuple(self.values(items, depth)?),
            Obj::Dict(dict) => {
                let mut out = if dict.ordered {
                    Dict::ordered()
                } else {
                    Dict::new()
                };
                for (key, item) in &dict.entries {
                    let item = self.value(*item, depth + 1)?;
                    out.insert(key.clone(), item);
                }
                Value::Dict(out)
            }
            Obj::Global(global) if self.allow_foreign => {
                let qualified = global.qualified_name();
                let (module, name) = qualified.rsplit_once('.').unwrap_or(("", &qualified));
                self.charge(qualified.len())?;
                Value::Object(Box::new(ForeignObject::reference(module, name)))
            }
            Obj::Foreign(object) => self.foreign(object, depth)?,
            Obj::Global(global) => {
                return Err(self.origin.error(format!(
                    "{} is used as a value; only tensors, numbers, strings and containers are read",
                    global.qualified_name()
                )));
            }
            Obj::Storage(_) => {
                return Err(self.origin.error(
                    "a bare storage outside a tensor is not supported; save tensors instead".into(),
                ));
            }
            Obj::Tensor(view) => {
                let storage = &self.storages[view.storage.storage];
                let element_size = storage.dtype.size();
                let shape = view.shape.clone();
                // The unpickler checked the view against the storage, so this cannot overflow.
                let byte_len = shape.iter().product::<usize>() * element_size;
                self.charge(byte_len)?;
                let bytes = self.source.load(storage)?;
                if bytes.len() != storage.byte_len() {
                    return Err(self.origin.error(format!(
                        "storage '{}' holds {} bytes, expected {}",
                        storage.key,
                        bytes.len(),
                        storage.byte_len()
                    )));
                }
                let first = view.storage.start + view.offset;
                let data = strided::gather(bytes, element_size, first, &shape, &view.stride);
                Value::Tensor(Tensor::from_bytes(storage.dtype, shape, data)?)
            }
        })
    }

    fn foreign(&mut self, object: &ForeignObj, depth: usize) -> Result<Value> {
        self.charge(object.module.len() + object.name.len())?;
        let mut converted = ForeignObject::reference(object.module.clone(), object.name.clone());
        if let Some(args) = &object.args {
            converted.args = Some(self.values(args, depth)?);
        }
        if let Some(kwargs) = object.kwargs {
            // The unpickler accepted only a dict here.
            if let Value::Dict(kwargs) = self.value(kwargs, depth + 1)? {
                converted.kwargs = kwargs;
            }
        }
        if let Some(state) = object.state {
            converted.state = Some(self.value(state, depth + 1)?);
        }
        converted.list_items = self.values(&object.list_items, depth)?;
        for (key, item) in &object.dict_items.entries {
            let item = self.value(*item, depth + 1)?;
            converted.dict_items.insert(key.clone(), item);
        }
        Ok(Value::Object(Box::new(converted)))
    }

    fn values(&mut self, items: &[Id], depth: usize) -> Result<Vec<Value>> {
        items
            .iter()
            .map(|&item| self.value(item, depth + 1))
            .collect()
    }
}
