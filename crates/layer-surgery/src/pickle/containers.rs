//! Filling lists and dicts and the memo, which keeps objects for later reuse.

use super::PickleError;
use super::machine::Machine;
use super::objects::{Id, Obj};
use crate::value::DictKey;

impl Machine<'_> {
    /// Resolves a dict key. Python allows any hashable key, but checkpoints use str and int.
    pub(super) fn dict_key(&self, id: Id) -> Result<DictKey, PickleError> {
        match &self.objects[id] {
            Obj::Str(text) => Ok(DictKey::Str(text.clone())),
            Obj::Int(number) => Ok(DictKey::Int(*number)),
            other => Err(self.invalid(format!(
                "dict key of type {} is not supported; keys must be str or int",
                other.type_name()
            ))),
        }
    }

    pub(super) fn memo_get(&mut self, key: u32) -> Result<(), PickleError> {
        let id = *self
            .memo
            .get(&key)
            .ok_or_else(|| self.invalid(format!("memo key {key} was never stored")))?;
        self.stack.push(id);
        Ok(())
    }

    pub(super) fn memo_put(&mut self, key: u32) -> Result<(), PickleError> {
        let top = self.top()?;
        self.memo.insert(key, top);
        Ok(())
    }

    pub(super) fn append(&mut self, list: Id, items: &[Id]) -> Result<(), PickleError> {
        let type_name = self.objects[list].type_name();
        match &mut self.objects[list] {
            Obj::List(existing) => {
                existing.extend_from_slice(items);
                Ok(())
            }
            Obj::Foreign(object) if object.args.is_some() => {
                object.list_items.extend_from_slice(items);
                Ok(())
            }
            _ => Err(self.invalid(format!("cannot append to a {type_name}"))),
        }
    }

    pub(super) fn set_items(&mut self, dict: Id, items: &[Id]) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.invalid(format!("odd number of values ({}) for a dict", items.len())));
        }
        let mut pairs = Vec::with_capacity(items.len() / 2);
        for pair in items.chunks_exact(2) {
            pairs.push((self.dict_key(pair[0])?, pair[1]));
        }
        let type_name = self.objects[dict].type_name();
        let target = match &mut self.objects[dict] {
            Obj::Dict(target) => target,
            Obj::Foreign(object) if object.args.is_some() => &mut object.dict_items,
            _ => return Err(self.invalid(format!("cannot set items of a {type_name}"))),
        };
        for (key, value) in pairs {
            target.set(key, value);
        }
        Ok(())
    }
}
