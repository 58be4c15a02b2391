//! The meaning of the allowed globals: what `REDUCE`, `BUILD` and persistent ids
//! produce. Each rule builds data, and none runs code.

use super::PickleError;
use super::machine::Machine;
use super::objects::{DictObj, Global, Id, Obj, StorageRef, StorageSlice, TensorView};
use crate::tensor::checked_numel;

impl Machine<'_> {
    /// Applies an allowed callable to its argument tuple.
    pub(super) fn reduce(&mut self, callable: Id, arguments: Id) -> Result<Id, PickleError> {
        let Obj::Global(global) = self.objects[callable] else {
            if matches!(self.objects[callable], Obj::Foreign(_)) {
                let arguments = self.tuple_items(arguments, "REDUCE arguments")?;
                return self.instantiate(callable, arguments, None);
            }
            return Err(self.invalid(format!(
                "cannot call a {}",
                self.objects[callable].type_name()
            )));
        };
        let Obj::Tuple(arguments) = &self.objects[arguments] else {
            return Err(self.invalid(format!(
                "arguments of {} must be a tuple",
                global.qualified_name()
            )));
        };
        let arguments = arguments.clone();
        match global {
            Global::OrderedDict => self.ordered_dict(&arguments),
            Global::RebuildTensor | Global::RebuildTensorV2 => {
                self.rebuild_tensor(global, &arguments)
            }
            Global::RebuildParameter | Global::RebuildParameterWithState => {
                let expected = if global == Global::RebuildParameter {
                    3
                } else {
                    4
                };
                self.expect_arity(global, &arguments, expected..=expected)?;
                self.expect_tensor(global, arguments[0])?;
                Ok(arguments[0])
            }
            Global::RebuildFromTypeV2 => {
                self.expect_arity(global, &arguments, 4..=4)?;
                let new_type = &self.objects[arguments[1]];
                if !matches!(
                    new_type,
                    Obj::Global(Global::TensorClass | Global::ParameterClass)
                ) {
                    return Err(self.invalid(format!(
                        "{} may only rebuild torch.Tensor or torch.nn.parameter.Parameter, \
                         found a {}",
                        global.qualified_name(),
                        new_type.type_name()
                    )));
                }
                // Only the plain rebuild functions may be wrapped, so this recursion is one level deep.
                let wrapped = matches!(
                    self.objects[arguments[0]],
                    Obj::Global(
                        Global::RebuildTensor
                            | Global::RebuildTensorV2
                            | Global::RebuildParameter
                            | Global::RebuildParameterWithState
                    )
                );
                if !wrapped {
                    return Err(self.invalid(format!(
                        "{} may only wrap a torch._utils rebuild function",
                        global.qualified_name()
                    )));
                }
                let result = self.reduce(arguments[0], arguments[2])?;
                self.expect_tensor(global, result)?;
                Ok(result)
            }
            Global::CodecsEncode => self.codecs_encode(&arguments),
            Global::TensorClass | Global::ParameterClass | Global::Storage(_) => {
                Err(self.invalid(format!(
                    "{} cannot be called in a tensor file",
                    global.qualified_name()
                )))
            }
        }
    }

    /// Accepts the attribute dict pickled after an `OrderedDict` (such as the
    /// `_metadata` of a `state_dict()`) and drops it, because it carries module versions only.
    pub(super) fn build(&mut self, target: Id, state: Id) -> Result<(), PickleError> {
        let accepted = matches!(self.objects[target], Obj::Dict(_))
            && matches!(self.objects[state], Obj::Dict(_) | Obj::None);
        if !accepted {
            return Err(self.invalid(format!(
                "setting the state of a {} from a {} is not supported",
                self.objects[target].type_name(),
                self.objects[state].type_name()
            )));
        }
        Ok(())
    }

    /// Reads `('storage', torch.<Type>Storage, key, location, numel[, view_metadata])`.
    pub(super) fn persistent_load(&mut self, pid: Id) -> Result<StorageSlice, PickleError> {
        let Obj::Tuple(fields) = &self.objects[pid] else {
            return Err(self.invalid("persistent id must be a tuple".into()));
        };
        let fields = fields.clone();

        // Kind and arity
        match fields.first().map(|&id| &self.objects[id]) {
            Some(Obj::Str(kind)) if kind == "storage" => {}
            Some(Obj::Str(kind)) => {
                return Err(self.invalid(format!(
                    "persistent id of kind '{kind}' is not supported, only storages are read"
                )));
            }
            _ => return Err(self.invalid("persistent id must start with a string".into())),
        }
        if !(5..=6).contains(&fields.len()) {
            return Err(self.invalid(format!(
                "storage persistent id has {} fields, expected 5 or 6",
                fields.len()
            )));
        }

        // Type, key, location and size
        let Obj::Global(Global::Storage(dtype)) = self.objects[fields[1]] else {
            return Err(self.invalid("the storage type must be a torch storage class".into()));
        };
        let key = self.expect_str(fields[2], "storage key")?;
        self.expect_str(fields[3], "storage location")?;
        let numel = self.expect_count(fields[4], "storage size")?;
        if numel.checked_mul(dtype.size()).is_none() {
            return Err(self.invalid(format!("storage of {numel} elements overflows memory")));
        }

        let storage = self.register_storage(StorageRef { key, dtype, numel })?;
        let mut slice = StorageSlice {
            storage,
            start: 0,
            len: numel,
        };
        if let Some(&view) = fields.get(5) {
            slice = self.storage_view(slice, view)?;
        }
        Ok(slice)
    }

    fn register_storage(&mut self, reference: StorageRef) -> Result<usize, PickleError> {
        if let Some(&index) = self.storage_index.get(&reference.key) {
            if self.storages[index] != reference {
                return Err(self.invalid(format!(
                    "storage '{}' is declared as {} x {} and as {} x {}",
                    reference.key,
                    self.storages[index].numel,
                    self.storages[index].dtype,
                    reference.numel,
                    reference.dtype
                )));
            }
            return Ok(index);
        }
        self.storage_index
            .insert(reference.key.clone(), self.storages.len());
        self.storages.push(reference);
        Ok(self.storages.len() - 1)
    }

    /// Applies the legacy format's `(view_key, offset, size)` storage view.
    fn storage_view(&self, root: StorageSlice, view: Id) -> Result<StorageSlice, PickleError> {
        let fields = match &self.objects[view] {
            Obj::None => return Ok(root),
            Obj::Tuple(fields) if fields.len() == 3 => fields.clone(),
            other => {
                return Err(self.invalid(format!(
                    "storage view metadata must be None or a 3-tuple, found a {}",
                    other.type_name()
                )));
            }
        };
        self.expect_str(fields[0], "storage view key")?;
        let start = self.expect_count(fields[1], "storage view offset")?;
        let len = self.expect_count(fields[2], "storage view size")?;
        if start.checked_add(len).is_none_or(|end| end > root.len) {
            return Err(self.invalid(format!(
                "storage view [{start}, {start} + {len}) exceeds its storage of {} elements",
                root.len
            )));
        }
        Ok(StorageSlice { start, len, ..root })
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`
    /// or the older `_rebuild_tensor(storage, offset, size, stride)`.
    fn rebuild_tensor(&mut self, global: Global, arguments: &[Id]) -> Result<Id, PickleError> {
        let arity = if global == Global::RebuildTensor {
            4..=4
        } else {
            4..=7
        };
        self.expect_arity(global, arguments, arity)?;
        let Obj::Storage(storage) = self.objects[arguments[0]] else {
            return Err(self.invalid(format!(
                "{} expects a storage, found a {}",
                global.qualified_name(),
                self.objects[arguments[0]].type_name()
            )));
        };
        let offset = self.expect_count(arguments[1], "storage offset")?;
        let shape = self.expect_counts(arguments[2], "size")?;
        let stride = self.expect_counts(arguments[3], "stride")?;
        if shape.len() != stride.len() {
            return Err(self.invalid(format!(
                "size {shape:?} and stride {stride:?} differ in length"
            )));
        }
        self.check_view_bounds(storage, offset, &shape, &stride)?;
        let view = TensorView {
            storage,
            offset,
            shape,
            stride,
        };
        Ok(self.allocate(Obj::Tensor(Box::new(view))))
    }

    /// Checks that every element the view addresses lies inside the storage slice.
    fn check_view_bounds(
        &self,
        storage: StorageSlice,
        offset: usize,
        shape: &[usize],
        stride: &[usize],
    ) -> Result<(), PickleError> {
        let numel = checked_numel(shape)
            .ok_or_else(|| self.invalid(format!("size {shape:?} overflows")))?;
        if numel == 0 {
            return if offset <= storage.len {
                Ok(())
            } else {
                Err(self.invalid(format!(
                    "storage offset {offset} exceeds the storage of {} elements",
                    storage.len
                )))
            };
        }
        let last = shape
            .iter()
            .zip(stride)
            .try_fold(offset, |last, (&size, &step)| {
                (size - 1).checked_mul(step)?.checked_add(last)
            });
        match last {
            Some(last) if last < storage.len => Ok(()),
            _ => Err(self.invalid(format!(
                "tensor of size {shape:?}, stride {stride:?} at offset {offset} reads past \
                 the end of its storage of {} elements",
                storage.len
            ))),
        }
    }

    fn ordered_dict(&mut self, arguments: &[Id]) -> Result<Id, PickleError> {
        let mut dict = DictObj::new(true);
        match arguments {
            [] => {}
            [items] => {
                let (Obj::List(pairs) | Obj::Tuple(pairs)) = &self.objects[*items] else {
                    return Err(self.invalid("OrderedDict expects a list of pairs".into()));
                };
                for &pair in pairs {
                    let Obj::Tuple(pair) = &self.objects[pair] else {
                        return Err(self.invalid("OrderedDict items must be pairs".into()));
                    };
                    let [key, value] = pair[..] else {
                        return Err(self.invalid("OrderedDict items must be pairs".into()));
                    };
                    dict.set(self.dict_key(key)?, value);
                }
            }
            _ => return Err(self.invalid("OrderedDict takes at most one argument".into())),
        }
        Ok(self.allocate(Obj::Dict(Box::new(dict))))
    }

    /// `_codecs.encode(text, encoding)` is how protocol 2 pickles `bytes`.
    fn codecs_encode(&mut self, arguments: &[Id]) -> Result<Id, PickleError> {
        self.expect_arity(Global::CodecsEncode, arguments, 2..=2)?;
        let text = self.expect_str(arguments[0], "text")?;
        let encoding = self.expect_str(arguments[1], "encoding")?;
        let bytes = match encoding.as_str() {
            "latin1" | "latin-1" | "iso-8859-1" => text
                .chars()
                .map(|character| u8::try_from(u32::from(character)))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| self.invalid("text is not latin-1".into()))?,
            "utf-8" | "utf8" => text.into_bytes(),
            other => return Err(self.invalid(format!("unsupported encoding '{other}'"))),
        };
        Ok(self.allocate(Obj::Bytes(bytes)))
    }

    fn expect_arity(
        &self,
        global: Global,
        arguments: &[Id],
        expected: std::ops::RangeInclusive<usize>,
    ) -> Result<(), PickleError> {
        if expected.contains(&arguments.len()) {
            return Ok(());
        }
        Err(self.invalid(format!(
            "{} takes {}..={} arguments, found {}",
            global.qualified_name(),
            expected.start(),
            expected.end(),
            arguments.len()
        )))
    }

    fn expect_tensor(&self, global: Global, id: Id) -> Result<(), PickleError> {
        match &self.objects[id] {
            Obj::Tensor(_) => Ok(()),
            other => Err(self.invalid(format!(
                "{} expects a tensor, found a {}",
                global.qualified_name(),
                other.type_name()
            ))),
        }
    }

    fn expect_str(&self, id: Id, what: &str) -> Result<String, PickleError> {
        match &self.objects[id] {
            Obj::Str(text) => Ok(text.clone()),
            other => Err(self.invalid(format!(
                "{what} must be a str, found a {}",
                other.type_name()
            ))),
        }
    }

    fn expect_count(&self, id: Id, what: &str) -> Result<usize, PickleError> {
        match &self.objects[id] {
            Obj::Int(number) => usize::try_from(*number)
                .map_err(|_| self.invalid(format!("{what} {number} is negative or too large"))),
            other => Err(self.invalid(format!(
                "{what} must be an int, found a {}",
                other.type_name()
            ))),
        }
    }

    fn expect_counts(&self, id: Id, what: &str) -> Result<Vec<usize>, PickleError> {
        match &self.objects[id] {
            Obj::Tuple(items) | Obj::List(items) => items
                .iter()
                .map(|&item| self.expect_count(item, what))
                .collect(),
            other => Err(self.invalid(format!(
                "{what} must be a tuple of ints, found a {}",
                other.type_name()
            ))),
        }
    }
}
