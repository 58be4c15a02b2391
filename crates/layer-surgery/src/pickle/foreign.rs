//! Foreign objects: how the unpickler records classes outside the allow-list,
//! and the objects built from them, when [`crate::ReadOptions`] allows them.
//!
//! A foreign class is a name and nothing more: calling it (`REDUCE`, `NEWOBJ`,
//! `NEWOBJ_EX`, `INST`, `OBJ`) records the arguments, `BUILD` records the state,
//! and appending or setting items records the items. No Python code is
//! imported or run, so a foreign object cannot do anything when read. Names
//! in [`super::denylist`] are still rejected.

use super::PickleError;
use super::denylist::{denial_reason, python3_module};
use super::machine::Machine;
use super::objects::{ForeignObj, Global, Id, Obj};
use super::opcodes as op;

impl Machine<'_> {
    /// Resolves a global against the allow-list or, when foreign objects are
    /// allowed, records it as a foreign class unless its name is denied.
    pub(super) fn global_object(&mut self, module: &str, name: &str) -> Result<Id, PickleError> {
        if let Some(global) = Global::lookup(module, name) {
            return Ok(self.allocate(Obj::Global(global)));
        }
        let module = python3_module(module);
        let offset = self.op_start;
        match (denial_reason(module, name), self.allow_foreign) {
            (None, true) => {
                let class = ForeignObj::class(module.to_owned(), name.to_owned());
                Ok(self.allocate(Obj::Foreign(Box::new(class))))
            }
            (None, false) => Err(PickleError::ForeignGlobal {
                offset,
                module: module.to_owned(),
                name: name.to_owned(),
            }),
            (Some(reason), true) => Err(PickleError::DeniedGlobal {
                offset,
                global: format!("{module}.{name}"),
                reason,
            }),
            (Some(_), false) => Err(PickleError::ForbiddenGlobal {
                offset,
                module: module.to_owned(),
                name: name.to_owned(),
            }),
        }
    }

    /// Runs an opcode that only foreign objects use: instance creation and sets.
    pub(super) fn foreign_step(&mut self, code: u8) -> Result<(), PickleError> {
        match code {
            op::NEWOBJ => {
                let arguments = self.pop()?;
                let class = self.pop()?;
                let arguments = self.tuple_items(arguments, "NEWOBJ arguments")?;
                let object = self.instantiate(class, arguments, None)?;
                self.stack.push(object);
            }
            op::NEWOBJ_EX => {
                let keywords = self.pop()?;
                let arguments = self.pop()?;
                let class = self.pop()?;
                let arguments = self.tuple_items(arguments, "NEWOBJ_EX arguments")?;
                if !matches!(self.objects[keywords], Obj::Dict(_)) {
                    return Err(self.invalid(format!(
                        "keyword arguments must be a dict, found a {}",
                        self.objects[keywords].type_name()
                    )));
                }
                let object = self.instantiate(class, arguments, Some(keywords))?;
                self.stack.push(object);
            }
            op::INST => {
                let module = self.read_line()?;
                let name = self.read_line()?;
                let module = String::from_utf8_lossy(module).into_owned();
                let name = String::from_utf8_lossy(name).into_owned();
                let arguments = self.pop_mark()?;
                let class = self.global_object(&module, &name)?;
                let object = self.instantiate(class, arguments, None)?;
                self.stack.push(object);
            }
            op::OBJ => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(self.invalid("needs a class after the MARK".into()));
                }
                let class = items.remove(0);
                let object = self.instantiate(class, items, None)?;
                self.stack.push(object);
            }
            op::EMPTY_SET => {
                let set = self.new_set("set", Vec::new());
                self.stack.push(set);
            }
            op::FROZENSET => {
                let items = self.pop_mark()?;
                let set = self.new_set("frozenset", items);
                self.stack.push(set);
            }
            op::ADDITEMS => {
                let items = self.pop_mark()?;
                let set = self.top()?;
                self.add_to_set(set, &items)?;
            }
            _ => return Err(self.invalid("is not an opcode of foreign objects".into())),
        }
        Ok(())
    }

    /// Records a call of a foreign class. A call of an allowed global goes
    /// through [`Machine::reduce`] instead.
    pub(super) fn instantiate(
        &mut self,
        class: Id,
        arguments: Vec<Id>,
        keywords: Option<Id>,
    ) -> Result<Id, PickleError> {
        let (module, name) = match &self.objects[class] {
            Obj::Foreign(foreign) if foreign.args.is_none() => {
                (foreign.module.clone(), foreign.name.clone())
            }
            Obj::Foreign(foreign) => {
                return Err(self.invalid(format!(
                    "cannot call an instance of {}",
                    foreign.qualified_name()
                )));
            }
            Obj::Global(global) => {
                return Err(self.invalid(format!(
                    "{} cannot be instantiated with {}",
                    global.qualified_name(),
                    self.op_name
                )));
            }
            other => {
                return Err(self.invalid(format!("cannot instantiate a {}", other.type_name())));
            }
        };
        let mut object = ForeignObj::class(module, name);
        object.args = Some(arguments);
        object.kwargs = keywords;
        Ok(self.allocate(Obj::Foreign(Box::new(object))))
    }

    /// Records the `BUILD` state of a foreign object, once.
    pub(super) fn build_foreign(&mut self, target: Id, state: Id) -> Result<(), PickleError> {
        let Obj::Foreign(object) = &self.objects[target] else {
            return Err(self.invalid(format!(
                "cannot set the state of a {}",
                self.objects[target].type_name()
            )));
        };
        let problem = if object.args.is_none() {
            Some("cannot set the state of the class")
        } else if object.state.is_some() {
            Some("the state is set twice for an object of")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(self.invalid(format!("{problem} {}", object.qualified_name())));
        }
        if let Obj::Foreign(object) = &mut self.objects[target] {
            object.state = Some(state);
        }
        Ok(())
    }

    /// Builds `builtins.set(items)` or `builtins.frozenset(items)` in the form
    /// protocol 2 pickles a set, so that every protocol reads to the same value.
    fn new_set(&mut self, name: &str, items: Vec<Id>) -> Id {
        let list = self.allocate(Obj::List(items));
        let mut set = ForeignObj::class("builtins".into(), name.into());
        set.args = Some(vec![list]);
        self.allocate(Obj::Foreign(Box::new(set)))
    }

    fn add_to_set(&mut self, set: Id, items: &[Id]) -> Result<(), PickleError> {
        let list = match &self.objects[set] {
            Obj::Foreign(object) if object.module == "builtins" && object.name == "set" => {
                object.args.as_ref().and_then(|args| args.first().copied())
            }
            _ => None,
        };
        let Some(list) = list else {
            return Err(self.invalid(format!(
                "cannot add items to a {}",
                self.objects[set].type_name()
            )));
        };
        self.append(list, items)
    }

    pub(super) fn tuple_items(&self, id: Id, what: &str) -> Result<Vec<Id>, PickleError> {
        match &self.objects[id] {
            Obj::Tuple(items) => Ok(items.clone()),
            other => Err(self.invalid(format!(
                "{what} must be a tuple, found a {}",
                other.type_name()
            ))),
        }
    }
}
