//! The restricted unpickler: a stack machine that builds objects from the
//! opcodes tensor files use and rejects everything else. It never calls
//! Python code, and [`super::reduce`] interprets the few allowed globals.
//! With foreign objects allowed, [`super::foreign`] records other classes as
//! inert placeholders.

use std::collections::HashMap;

use super::PickleError;
use super::objects::{Id, Obj, StorageRef};
use super::opcodes as op;
use crate::format::ReadOptions;

/// Maximum `MARK` nesting. Checkpoints nest a handful of containers, and the
/// limit bounds the mark stack of a hostile file.
pub(crate) const MAX_MARK_DEPTH: usize = 1024;

/// Result of running one pickle: the arena, the root object and the storages the
/// persistent ids declared.
#[derive(Debug)]
pub(crate) struct Unpickled {
    pub objects: Vec<Obj>,
    pub root: Id,
    pub storages: Vec<StorageRef>,
    /// Offset just past the `STOP` opcode, where the next pickle of a legacy file starts.
    pub end: usize,
    /// Whether the arena may contain foreign objects, which convert to placeholders.
    pub allow_foreign: bool,
}

pub(super) const NONE_ID: Id = 0;
pub(super) const FALSE_ID: Id = 1;
pub(super) const TRUE_ID: Id = 2;
const EMPTY_TUPLE_ID: Id = 3;

/// Runs the pickle that starts at `data[start]` with the strict allow-list.
#[cfg(test)]
pub(crate) fn unpickle(data: &[u8], start: usize) -> Result<Unpickled, PickleError> {
    unpickle_with(data, start, &ReadOptions::default())
}

/// Runs the pickle that starts at `data[start]`.
pub(crate) fn unpickle_with(
    data: &[u8],
    start: usize,
    options: &ReadOptions,
) -> Result<Unpickled, PickleError> {
    let mut machine = Machine {
        data,
        pos: start,
        op_start: start,
        op_name: "PROTO",
        objects: vec![
            Obj::None,
            Obj::Bool(false),
            Obj::Bool(true),
            Obj::Tuple(Vec::new()),
        ],
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        storages: Vec::new(),
        storage_index: HashMap::new(),
        allow_foreign: options.allow_foreign_objects,
    };
    let root = machine.run()?;
    Ok(Unpickled {
        objects: machine.objects,
        root,
        storages: machine.storages,
        end: machine.pos,
        allow_foreign: options.allow_foreign_objects,
    })
}

pub(crate) struct Machine<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) op_start: usize,
    pub(super) op_name: &'static str,
    pub(super) objects: Vec<Obj>,
    pub(super) stack: Vec<Id>,
    marks: Vec<usize>,
    pub(super) memo: HashMap<u32, Id>,
    pub(super) storages: Vec<StorageRef>,
    pub(super) storage_index: HashMap<String, usize>,
    pub(super) allow_foreign: bool,
}

impl<'a> Machine<'a> {
    fn run(&mut self) -> Result<Id, PickleError> {
        loop {
            self.op_start = self.pos;
            let Some(&code) = self.data.get(self.pos) else {
                return Err(PickleError::MissingStop { offset: self.pos });
            };
            self.pos += 1;
            self.op_name = op::name(code).ok_or(PickleError::UnknownOpcode {
                offset: self.op_start,
                code,
            })?;
            if code == op::STOP {
                return self.pop();
            }
            self.step(code)?;
        }
    }

    fn step(&mut self, code: u8) -> Result<(), PickleError> {
        match code {
            op::PROTO => {
                let version = self.read_u8()?;
                if version > 5 {
                    return Err(self.invalid(format!("protocol {version} is newer than 5")));
                }
            }
            // Frames only group opcodes for buffered reading, and the data is already in memory.
            op::FRAME => {
                self.read_u64()?;
            }
            op::MARK => {
                if self.marks.len() >= MAX_MARK_DEPTH {
                    return Err(self.limit("MARK nesting", MAX_MARK_DEPTH));
                }
                self.marks.push(self.stack.len());
            }
            op::POP => {
                let above_mark = self
                    .marks
                    .last()
                    .is_none_or(|&mark| self.stack.len() > mark);
                if above_mark {
                    self.pop()?;
                } else {
                    self.pop_mark()?;
                }
            }
            op::POP_MARK => {
                self.pop_mark()?;
            }
            op::DUP => {
                let top = self.top()?;
                self.stack.push(top);
            }
            op::NONE => self.stack.push(NONE_ID),
            op::NEWTRUE => self.stack.push(TRUE_ID),
            op::NEWFALSE => self.stack.push(FALSE_ID),
            op::INT => self.text_int()?,
            op::LONG => {
                let line = self.read_line()?;
                let digits = line.strip_suffix(b"L").unwrap_or(line);
                let number = self.parse_text_int(digits)?;
                self.push(Obj::Int(number));
            }
            op::BININT => {
                let bytes = self.take(4)?;
                let number = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
                self.push(Obj::Int(i64::from(number)));
            }
            op::BININT1 => {
                let number = self.read_u8()?;
                self.push(Obj::Int(i64::from(number)));
            }
            op::BININT2 => {
                let bytes = self.take(2)?;
                self.push(Obj::Int(i64::from(u16::from_le_bytes([
                    bytes[0], bytes[1],
                ]))));
            }
            op::LONG1 => {
                let length = u64::from(self.read_u8()?);
                self.long(length)?;
            }
            op::LONG4 => {
                let length = self.read_i32_length()?;
                self.long(length)?;
            }
            op::BINFLOAT => {
                let bytes = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                self.push(Obj::Float(f64::from_be_bytes(array)));
            }
            op::FLOAT => {
                let line = self.read_line()?;
                let text = std::str::from_utf8(line).ok();
                let number = text.and_then(|text| text.trim().parse::<f64>().ok());
                let number = number
                    .ok_or_else(|| self.invalid(format!("invalid float literal {line:?}")))?;
                self.push(Obj::Float(number));
            }
            op::SHORT_BINUNICODE | op::SHORT_BINSTRING => {
                let length = u64::from(self.read_u8()?);
                self.string(length)?;
            }
            op::BINUNICODE => {
                let length = u64::from(self.read_u32()?);
                self.string(length)?;
            }
            op::BINSTRING => {
                let length = self.read_i32_length()?;
                self.string(length)?;
            }
            op::BINUNICODE8 => {
                let length = self.read_u64()?;
                self.string(length)?;
            }
            op::SHORT_BINBYTES => {
                let length = u64::from(self.read_u8()?);
                self.bytes(length)?;
            }
            op::BINBYTES => {
                let length = u64::from(self.read_u32()?);
                self.bytes(length)?;
            }
            op::BINBYTES8 | op::BYTEARRAY8 => {
                let length = self.read_u64()?;
                self.bytes(length)?;
            }
            op::EMPTY_LIST => self.push(Obj::List(Vec::new())),
            op::EMPTY_DICT => self.push(Obj::Dict(Box::default())),
            op::EMPTY_TUPLE => self.stack.push(EMPTY_TUPLE_ID),
            op::LIST => {
                let items = self.pop_mark()?;
                self.push(Obj::List(items));
            }
            op::TUPLE => {
                let items = self.pop_mark()?;
                self.push(Obj::Tuple(items));
            }
            op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                let count = usize::from(code - op::TUPLE1) + 1;
                let items = self.pop_many(count)?;
                self.push(Obj::Tuple(items));
            }
            op::DICT => {
                let items = self.pop_mark()?;
                self.push(Obj::Dict(Box::default()));
                let dict = self.top()?;
                self.set_items(dict, &items)?;
            }
            op::APPEND => {
                let item = self.pop()?;
                let list = self.top()?;
                self.append(list, &[item])?;
            }
            op::APPENDS => {
                let items = self.pop_mark()?;
                let list = self.top()?;
                self.append(list, &items)?;
            }
            op::SETITEM => {
                let pair = self.pop_many(2)?;
                let dict = self.top()?;
                self.set_items(dict, &pair)?;
            }
            op::SETITEMS => {
                let items = self.pop_mark()?;
                let dict = self.top()?;
                self.set_items(dict, &items)?;
            }
            op::GET => {
                let key = self.text_memo_key()?;
                self.memo_get(key)?;
            }
            op::BINGET => {
                let key = u32::from(self.read_u8()?);
                self.memo_get(key)?;
            }
            op::LONG_BINGET => {
                let key = self.read_u32()?;
                self.memo_get(key)?;
            }
            op::PUT => {
                let key = self.text_memo_key()?;
                self.memo_put(key)?;
            }
            op::BINPUT => {
                let key = u32::from(self.read_u8()?);
                self.memo_put(key)?;
            }
            op::LONG_BINPUT => {
                let key = self.read_u32()?;
                self.memo_put(key)?;
            }
            op::MEMOIZE => {
                let key = u32::try_from(self.memo.len())
                    .map_err(|_| self.limit("memo size", u32::MAX as usize))?;
                self.memo_put(key)?;
            }
            op::GLOBAL => {
                let module = self.read_line()?;
                let name = self.read_line()?;
                let module = String::from_utf8_lossy(module).into_owned();
                let name = String::from_utf8_lossy(name).into_owned();
                self.global(&module, &name)?;
            }
            op::STACK_GLOBAL => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Obj::Str(module), Obj::Str(name)) =
                    (&self.objects[module], &self.objects[name])
                else {
                    return Err(self.invalid("module and name must be strings".into()));
                };
                let (module, name) = (module.clone(), name.clone());
                self.global(&module, &name)?;
            }
            op::REDUCE => {
                let arguments = self.pop()?;
                let callable = self.pop()?;
                let result = self.reduce(callable, arguments)?;
                self.stack.push(result);
            }
            op::BUILD => {
                let state = self.pop()?;
                let target = self.top()?;
                if matches!(self.objects[target], Obj::Foreign(_)) {
                    self.build_foreign(target, state)?;
                } else {
                    self.build(target, state)?;
                }
            }
            op::BINPERSID => {
                let pid = self.pop()?;
                let storage = self.persistent_load(pid)?;
                self.push(Obj::Storage(storage));
            }
            op::NEWOBJ
            | op::NEWOBJ_EX
            | op::INST
            | op::OBJ
            | op::EMPTY_SET
            | op::ADDITEMS
            | op::FROZENSET
                if self.allow_foreign =>
            {
                self.foreign_step(code)?;
            }
            _ => return Err(self.rejected(code)),
        }
        Ok(())
    }

    fn rejected(&self, code: u8) -> PickleError {
        let reason = match code {
            op::PERSID => "torch.save writes binary persistent ids (BINPERSID) only",
            op::INST | op::OBJ | op::NEWOBJ | op::NEWOBJ_EX => {
                "it creates instances of arbitrary classes (allow foreign objects to read them \
                 as placeholders)"
            }
            op::EXT1 | op::EXT2 | op::EXT4 => "it refers to the copyreg extension registry",
            op::EMPTY_SET | op::ADDITEMS | op::FROZENSET => "sets do not occur in tensor files",
            op::NEXT_BUFFER | op::READONLY_BUFFER => "out-of-band buffers are not read",
            _ => "protocol-0 text strings are not written by torch.save",
        };
        PickleError::RejectedOpcode {
            offset: self.op_start,
            name: self.op_name,
            reason,
        }
    }

    pub(super) fn invalid(&self, detail: String) -> PickleError {
        PickleError::Invalid {
            offset: self.op_start,
            opcode: self.op_name,
            detail,
        }
    }

    fn limit(&self, what: &'static str, limit: usize) -> PickleError {
        PickleError::LimitExceeded {
            offset: self.op_start,
            what,
            limit,
        }
    }

    pub(super) fn push(&mut self, object: Obj) {
        self.objects.push(object);
        self.stack.push(self.objects.len() - 1);
    }

    /// Adds an object to the arena without pushing it.
    pub(super) fn allocate(&mut self, object: Obj) -> Id {
        self.objects.push(object);
        self.objects.len() - 1
    }

    fn stack_floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    pub(super) fn pop(&mut self) -> Result<Id, PickleError> {
        if self.stack.len() <= self.stack_floor() {
            return Err(self.invalid("the stack is empty".into()));
        }
        Ok(self.stack.pop().unwrap_or(NONE_ID))
    }

    pub(super) fn top(&self) -> Result<Id, PickleError> {
        if self.stack.len() <= self.stack_floor() {
            return Err(self.invalid("the stack is empty".into()));
        }
        Ok(self.stack[self.stack.len() - 1])
    }

    fn pop_many(&mut self, count: usize) -> Result<Vec<Id>, PickleError> {
        if self.stack.len() < self.stack_floor() + count {
            return Err(self.invalid(format!("needs {count} values on the stack")));
        }
        Ok(self.stack.split_off(self.stack.len() - count))
    }

    pub(super) fn pop_mark(&mut self) -> Result<Vec<Id>, PickleError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.invalid("no MARK is open".into()))?;
        Ok(self.stack.split_off(mark))
    }

    fn global(&mut self, module: &str, name: &str) -> Result<(), PickleError> {
        let global = self.global_object(module, name)?;
        self.stack.push(global);
        Ok(())
    }
}
