//! Writing a [`Value`] as a protocol-2 pickle in the form `torch.save` produces.

use std::collections::HashMap;

use super::convert::MAX_DEPTH;
use super::opcodes as op;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::value::{Dict, DictKey, Value};

/// Python's pickler splits `APPENDS` and `SETITEMS` into batches of this many items.
const BATCH_SIZE: usize = 1000;

/// A pickled value and the tensors whose data go into the storages `"0"`, `"1"`, ….
pub(crate) struct Pickled<'a> {
    pub bytes: Vec<u8>,
    pub storages: Vec<&'a Tensor>,
}

/// Pickles `value`, giving every tensor its own contiguous storage.
pub(crate) fn pickle(value: &Value) -> Result<Pickled<'_>> {
    let mut writer = Writer {
        out: vec![op::PROTO, 2],
        storages: Vec::new(),
        memo: HashMap::new(),
    };
    writer.value(value, 0)?;
    writer.out.push(op::STOP);
    Ok(Pickled {
        bytes: writer.out,
        storages: writer.storages,
    })
}

struct Writer<'a> {
    out: Vec<u8>,
    storages: Vec<&'a Tensor>,
    /// Memo slots of the globals and constant strings written more than once.
    memo: HashMap<String, u32>,
}

impl<'a> Writer<'a> {
    fn value(&mut self, value: &'a Value, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(Error::invalid_checkpoint(
                "<value>",
                format!("values nested deeper than {MAX_DEPTH} levels cannot be read back"),
            ));
        }
        match value {
            Value::None => self.out.push(op::NONE),
            Value::Bool(true) => self.out.push(op::NEWTRUE),
            Value::Bool(false) => self.out.push(op::NEWFALSE),
            Value::Int(number) => self.int(*number),
            Value::Float(number) => {
                self.out.push(op::BINFLOAT);
                self.out.extend_from_slice(&number.to_be_bytes());
            }
            Value::Str(text) => self.string(text),
            Value::Bytes(bytes) => self.bytes(bytes),
            Value::List(items) => self.list(items, depth)?,
            Value::Tuple(items) => self.tuple(items, depth)?,
            Value::Dict(dict) => self.dict(dict, depth)?,
            Value::Tensor(tensor) => self.tensor(tensor),
            // Writing the placeholder back would make torch.load import the class.
            Value::Object(object) => {
                return Err(Error::invalid_checkpoint(
                    "<value>",
                    format!(
                        "the foreign object `{}` is a placeholder and cannot be written; remove \
                         it first (Value::remove_foreign_objects)",
                        object.qualified_name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn int(&mut self, number: i64) {
        if let Ok(small) = u8::try_from(number) {
            self.out.extend_from_slice(&[op::BININT1, small]);
        } else if let Ok(medium) = u16::try_from(number) {
            self.out.push(op::BININT2);
            self.out.extend_from_slice(&medium.to_le_bytes());
        } else if let Ok(word) = i32::try_from(number) {
            self.out.push(op::BININT);
            self.out.extend_from_slice(&word.to_le_bytes());
        } else {
            // Shortest little-endian two's complement, as Python's encode_long.
            let bytes = number.to_le_bytes();
            let mut length = 8;
            while length > 1 {
                let top = bytes[length - 1];
                let next_sign = bytes[length - 2] & 0x80;
                let redundant = (top == 0x00 && next_sign == 0) || (top == 0xff && next_sign != 0);
                if !redundant {
                    break;
                }
                length -= 1;
            }
            self.out.extend_from_slice(&[op::LONG1, length as u8]);
            self.out.extend_from_slice(&bytes[..length]);
        }
    }

    fn string(&mut self, text: &str) {
        match u32::try_from(text.len()) {
            Ok(length) => {
                self.out.push(op::BINUNICODE);
                self.out.extend_from_slice(&length.to_le_bytes());
            }
            // Python reads opcodes of any protocol, whatever PROTO declared.
            Err(_) => {
                self.out.push(op::BINUNICODE8);
                self.out
                    .extend_from_slice(&(text.len() as u64).to_le_bytes());
            }
        }
        self.out.extend_from_slice(text.as_bytes());
    }

    /// Writes bytes as Python does in protocol 2, which has no bytes opcode:
    /// `_codecs.encode(latin1_text, 'latin1')`.
    fn bytes(&mut self, bytes: &[u8]) {
        self.global("_codecs", "encode");
        let latin1: String = bytes.iter().map(|&byte| char::from(byte)).collect();
        self.string(&latin1);
        self.string("latin1");
        self.out.push(op::TUPLE2);
        self.out.push(op::REDUCE);
    }

    fn list(&mut self, items: &'a [Value], depth: usize) -> Result<()> {
        self.out.push(op::EMPTY_LIST);
        for batch in items.chunks(BATCH_SIZE) {
            self.out.push(op::MARK);
            for item in batch {
                self.value(item, depth + 1)?;
            }
            self.out.push(op::APPENDS);
        }
        Ok(())
    }

    fn tuple(&mut self, items: &'a [Value], depth: usize) -> Result<()> {
        let short_form = match items.len() {
            0 => {
                self.out.push(op::EMPTY_TUPLE);
                return Ok(());
            }
            1 => Some(op::TUPLE1),
            2 => Some(op::TUPLE2),
            3 => Some(op::TUPLE3),
            _ => None,
        };
        if short_form.is_none() {
            self.out.push(op::MARK);
        }
        for item in items {
            self.value(item, depth + 1)?;
        }
        self.out.push(short_form.unwrap_or(op::TUPLE));
        Ok(())
    }

    fn dict(&mut self, dict: &'a Dict, depth: usize) -> Result<()> {
        if dict.is_ordered() {
            self.global("collections", "OrderedDict");
            self.out.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE]);
        } else {
            self.out.push(op::EMPTY_DICT);
        }
        let entries: Vec<_> = dict.iter().collect();
        for batch in entries.chunks(BATCH_SIZE) {
            self.out.push(op::MARK);
            for (key, item) in batch {
                match key {
                    DictKey::Str(text) => self.string(text),
                    DictKey::Int(number) => self.int(*number),
                }
                self.value(item, depth + 1)?;
            }
            self.out.push(op::SETITEMS);
        }
        Ok(())
    }

    /// `_rebuild_tensor_v2(('storage', torch.<T>Storage, key, 'cpu', numel), 0, size,
    /// stride, False, OrderedDict())`.
    fn tensor(&mut self, tensor: &'a Tensor) {
        let key = self.storages.len().to_string();
        self.storages.push(tensor);

        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(op::MARK);

        // Persistent id of the storage
        self.out.push(op::MARK);
        self.memoized_string("storage");
        self.global("torch", tensor.dtype().torch_storage_name());
        self.string(&key);
        self.memoized_string("cpu");
        self.int(tensor.numel() as i64);
        self.out.push(op::TUPLE);
        self.out.push(op::BINPERSID);

        // Offset, size, stride
        self.int(0);
        self.int_tuple(tensor.shape());
        self.int_tuple(&contiguous_strides(tensor.shape()));

        // requires_grad, backward hooks
        self.out.push(op::NEWFALSE);
        self.global("collections", "OrderedDict");
        self.out.extend_from_slice(&[op::EMPTY_TUPLE, op::REDUCE]);

        self.out.push(op::TUPLE);
        self.out.push(op::REDUCE);
    }

    fn int_tuple(&mut self, items: &[usize]) {
        let short_form = match items.len() {
            0 => {
                self.out.push(op::EMPTY_TUPLE);
                return;
            }
            1 => Some(op::TUPLE1),
            2 => Some(op::TUPLE2),
            3 => Some(op::TUPLE3),
            _ => None,
        };
        if short_form.is_none() {
            self.out.push(op::MARK);
        }
        for &item in items {
            self.int(item as i64);
        }
        self.out.push(short_form.unwrap_or(op::TUPLE));
    }

    fn global(&mut self, module: &str, name: &str) {
        let memo_key = format!("{module}\n{name}");
        if self.memo_get(&memo_key) {
            return;
        }
        self.out.push(op::GLOBAL);
        self.out.extend_from_slice(memo_key.as_bytes());
        self.out.push(b'\n');
        self.memo_put(memo_key);
    }

    fn memoized_string(&mut self, text: &str) {
        let memo_key = format!("str:{text}");
        if self.memo_get(&memo_key) {
            return;
        }
        self.string(text);
        self.memo_put(memo_key);
    }

    fn memo_get(&mut self, memo_key: &str) -> bool {
        let Some(&slot) = self.memo.get(memo_key) else {
            return false;
        };
        match u8::try_from(slot) {
            Ok(short) => self.out.extend_from_slice(&[op::BINGET, short]),
            Err(_) => {
                self.out.push(op::LONG_BINGET);
                self.out.extend_from_slice(&slot.to_le_bytes());
            }
        }
        true
    }

    fn memo_put(&mut self, memo_key: String) {
        let slot = self.memo.len() as u32;
        match u8::try_from(slot) {
            Ok(short) => self.out.extend_from_slice(&[op::BINPUT, short]),
            Err(_) => {
                self.out.push(op::LONG_BINPUT);
                self.out.extend_from_slice(&slot.to_le_bytes());
            }
        }
        self.memo.insert(memo_key, slot);
    }
}

/// Row-major strides as PyTorch computes them: dimensions of size 0 count as 1.
pub(crate) fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1usize; shape.len()];
    for dim in (0..shape.len().saturating_sub(1)).rev() {
        strides[dim] = strides[dim + 1] * shape[dim + 1].max(1);
    }
    strides
}
