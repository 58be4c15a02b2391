//! The objects the unpickler builds, kept in an arena and referred to by index.
//!
//! An arena (instead of reference-counted nodes) keeps Python's sharing and
//! mutation semantics for memoised objects while making hostile inputs harmless:
//! self-referencing or deeply nested containers are plain indices, so nothing
//! recurses until the bounded conversion to [`crate::Value`].

use std::collections::HashMap;

use crate::dtype::DType;
use crate::value::DictKey;

/// Index of an object in the arena.
pub(crate) type Id = usize;

/// A Python object in the unpickler's arena.
#[derive(Debug)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits, as little-endian two's complement bytes.
    /// Only the legacy format's magic number needs one.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Dict(Box<DictObj>),
    Global(Global),
    Storage(StorageSlice),
    Tensor(Box<TensorView>),
    /// A class outside the allow-list or an object made from one, built only
    /// when foreign objects are allowed.
    Foreign(Box<ForeignObj>),
}

impl Obj {
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Obj::None => "None",
            Obj::Bool(_) => "bool",
            Obj::Int(_) | Obj::BigInt(_) => "int",
            Obj::Float(_) => "float",
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::List(_) => "list",
            Obj::Tuple(_) => "tuple",
            Obj::Dict(_) => "dict",
            Obj::Global(_) => "global",
            Obj::Storage(_) => "storage",
            Obj::Tensor(_) => "Tensor",
            Obj::Foreign(object) if object.args.is_none() => "foreign class",
            Obj::Foreign(_) => "foreign object",
        }
    }
}

/// A dict under construction. Keys are resolved when set, so that repeated keys
/// replace in constant time.
#[derive(Debug, Default)]
pub(crate) struct DictObj {
    pub ordered: bool,
    pub entries: Vec<(DictKey, Id)>,
    index: HashMap<DictKey, usize>,
}

impl DictObj {
    pub(crate) fn new(ordered: bool) -> Self {
        DictObj {
            ordered,
            ..DictObj::default()
        }
    }

    pub(crate) fn set(&mut self, key: DictKey, value: Id) {
        if let Some(&position) = self.index.get(&key) {
            self.entries[position].1 = value;
            return;
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
    }
}

/// The arena form of [`crate::ForeignObject`]: the class name and the ids of
/// what the pickle applied to it.
#[derive(Debug)]
pub(crate) struct ForeignObj {
    pub module: String,
    pub name: String,
    /// `None` for the class itself, the call's arguments for an object made from it.
    pub args: Option<Vec<Id>>,
    /// The keyword-argument dict of `NEWOBJ_EX`.
    pub kwargs: Option<Id>,
    pub state: Option<Id>,
    pub list_items: Vec<Id>,
    pub dict_items: DictObj,
}

impl ForeignObj {
    pub(crate) fn class(module: String, name: String) -> Self {
        ForeignObj {
            module,
            name,
            args: None,
            kwargs: None,
            state: None,
            list_items: Vec::new(),
            dict_items: DictObj::default(),
        }
    }

    pub(crate) fn qualified_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// A storage declared by a persistent id: `('storage', torch.FloatStorage, key,
/// location, numel[, view_metadata])`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StorageRef {
    /// Name of the storage: the entry `data/<key>` of a zip archive, or the key
    /// listed after the object in a legacy file.
    pub key: String,
    pub dtype: DType,
    /// Number of elements of `dtype` in the storage.
    pub numel: usize,
}

impl StorageRef {
    /// Size of the storage in bytes. The unpickler checks that this does not overflow.
    pub(crate) fn byte_len(&self) -> usize {
        self.numel * self.dtype.size()
    }
}

/// A range of elements of a storage. Zip files always use the whole storage, and
/// legacy files may declare storage views with an element offset and length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StorageSlice {
    /// Index into the unpickler's storage table.
    pub storage: usize,
    pub start: usize,
    pub len: usize,
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
/// The unpickler checks that every element it addresses lies inside `storage`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TensorView {
    pub storage: StorageSlice,
    /// Offset of the first element, in elements, from the start of the slice.
    pub offset: usize,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
}

/// The globals a tensor file may reference. Anything else is rejected when the
/// `GLOBAL` opcode names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Global {
    OrderedDict,
    RebuildTensor,
    RebuildTensorV2,
    RebuildParameter,
    RebuildParameterWithState,
    RebuildFromTypeV2,
    TensorClass,
    ParameterClass,
    Storage(DType),
    CodecsEncode,
}

impl Global {
    /// Resolves `module.name` against the allow-list.
    pub(crate) fn lookup(module: &str, name: &str) -> Option<Global> {
        let global = match (module, name) {
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("torch._utils", "_rebuild_tensor") => Global::RebuildTensor,
            ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensorV2,
            ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => Global::RebuildParameterWithState,
            ("torch._tensor", "_rebuild_from_type_v2") => Global::RebuildFromTypeV2,
            ("torch", "Tensor") => Global::TensorClass,
            ("torch.nn.parameter", "Parameter") => Global::ParameterClass,
            ("torch", storage) => Global::Storage(DType::from_torch_storage_name(storage)?),
            ("_codecs", "encode") => Global::CodecsEncode,
            _ => return None,
        };
        Some(global)
    }

    pub(crate) fn qualified_name(self) -> String {
        match self {
            Global::OrderedDict => "collections.OrderedDict".into(),
            Global::RebuildTensor => "torch._utils._rebuild_tensor".into(),
            Global::RebuildTensorV2 => "torch._utils._rebuild_tensor_v2".into(),
            Global::RebuildParameter => "torch._utils._rebuild_parameter".into(),
            Global::RebuildParameterWithState => {
                "torch._utils._rebuild_parameter_with_state".into()
            }
            Global::RebuildFromTypeV2 => "torch._tensor._rebuild_from_type_v2".into(),
            Global::TensorClass => "torch.Tensor".into(),
            Global::ParameterClass => "torch.nn.parameter.Parameter".into(),
            Global::Storage(dtype) => format!("torch.{}", dtype.torch_storage_name()),
            Global::CodecsEncode => "_codecs.encode".into(),
        }
    }
}
