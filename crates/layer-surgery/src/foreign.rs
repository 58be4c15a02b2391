//! Inert placeholders for Python objects of classes outside the tensor
//! allow-list, which the reader builds only when [`crate::ReadOptions`] allows
//! foreign objects.

use std::collections::BTreeMap;

use crate::value::{Dict, DictKey, Value};

/// Maximum number of distinct class names a log line lists before it
/// summarises the rest as a count.
pub(crate) const LOGGED_CLASS_LIMIT: usize = 8;

/// A Python object read as data: the class (or function) it names and what
/// the pickle applied to it. Nothing of it was imported or executed.
///
/// A reference checkpoint's `settings` object, for example, reads as
/// `lib.train.admin.settings.Settings` with `args = Some(vec![])` (from
/// `NEWOBJ`) and its `__dict__` as `state` (from `BUILD`).
#[derive(Clone, Debug, PartialEq)]
pub struct ForeignObject {
    /// Module of the class, as the pickle names it. Python 2's `__builtin__`
    /// is read as `builtins`, as Python 3's unpickler does.
    pub module: String,
    /// Class or function name, possibly dotted (a nested class).
    pub name: String,
    /// Positional arguments of the call that created the object (`REDUCE`,
    /// `NEWOBJ`, `NEWOBJ_EX`, `INST`, `OBJ`), or `None` when the pickle only
    /// referenced the class or function without calling it.
    pub args: Option<Vec<Value>>,
    /// Keyword arguments of `NEWOBJ_EX`; empty for the other opcodes.
    pub kwargs: Dict,
    /// The state `BUILD` passed to the object, usually its `__dict__`.
    pub state: Option<Value>,
    /// Items appended to the object (`APPEND`, `APPENDS`), as pickles of list subclasses have.
    pub list_items: Vec<Value>,
    /// Items set on the object (`SETITEM`, `SETITEMS`), as pickles of dict
    /// subclasses (`easydict.EasyDict`) have.
    pub dict_items: Dict,
}

impl ForeignObject {
    /// Creates a reference to `module.name` that nothing was applied to.
    pub fn reference(module: impl Into<String>, name: impl Into<String>) -> Self {
        ForeignObject {
            module: module.into(),
            name: name.into(),
            args: None,
            kwargs: Dict::new(),
            state: None,
            list_items: Vec::new(),
            dict_items: Dict::new(),
        }
    }

    /// Returns `module.name`, the name Python prints for the class.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }

    /// Looks up an attribute in the `BUILD` state: a `__dict__`, or the
    /// `(__dict__, slots)` pair that classes with `__slots__` pickle.
    pub fn attribute(&self, name: &str) -> Option<&Value> {
        match &self.state {
            Some(Value::Dict(dict)) => dict.get(name),
            Some(Value::Tuple(pair)) if pair.len() == 2 => pair
                .iter()
                .filter_map(Value::as_dict)
                .find_map(|dict| dict.get(name)),
            _ => None,
        }
    }
}

impl Value {
    pub fn as_object(&self) -> Option<&ForeignObject> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    /// Counts the foreign objects in the tree by qualified class name,
    /// including those nested inside other foreign objects.
    pub fn foreign_classes(&self) -> BTreeMap<String, usize> {
        let mut classes = BTreeMap::new();
        self.count_foreign_classes(&mut classes);
        classes
    }

    fn count_foreign_classes(&self, classes: &mut BTreeMap<String, usize>) {
        match self {
            Value::List(items) | Value::Tuple(items) => {
                for item in items {
                    item.count_foreign_classes(classes);
                }
            }
            Value::Dict(dict) => {
                for (_, item) in dict.iter() {
                    item.count_foreign_classes(classes);
                }
            }
            Value::Object(object) => {
                *classes.entry(object.qualified_name()).or_default() += 1;
                let children = object.args.iter().flatten().chain(&object.list_items);
                for child in children.chain(object.state.as_ref()) {
                    child.count_foreign_classes(classes);
                }
                for (_, child) in object.kwargs.iter().chain(object.dict_items.iter()) {
                    child.count_foreign_classes(classes);
                }
            }
            Value::None
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Str(_)
            | Value::Bytes(_)
            | Value::Tensor(_) => {}
        }
    }

    /// Removes every foreign object so that the tree can be written: dict
    /// entries that hold one are removed, and list or tuple items become `None`
    /// so that the other items keep their positions. Returns the path and
    /// class of each removed object, such as `("settings", "lib.train.admin.settings.Settings")`.
    /// A foreign object at the top level becomes `None`.
    pub fn remove_foreign_objects(&mut self) -> Vec<(String, String)> {
        let mut removed = Vec::new();
        if let Value::Object(object) = self {
            removed.push((String::new(), object.qualified_name()));
            *self = Value::None;
        } else {
            self.remove_nested_foreign_objects("", &mut removed);
        }
        removed
    }

    fn remove_nested_foreign_objects(&mut self, path: &str, removed: &mut Vec<(String, String)>) {
        match self {
            Value::List(items) | Value::Tuple(items) => {
                for (position, item) in items.iter_mut().enumerate() {
                    let item_path = format!("{path}[{position}]");
                    if let Value::Object(object) = item {
                        removed.push((item_path, object.qualified_name()));
                        *item = Value::None;
                    } else {
                        item.remove_nested_foreign_objects(&item_path, removed);
                    }
                }
            }
            Value::Dict(dict) => {
                let mut kept = if dict.is_ordered() {
                    Dict::ordered()
                } else {
                    Dict::new()
                };
                for (key, mut item) in std::mem::take(dict).into_entries() {
                    let item_path = match (&key, path.is_empty()) {
                        (DictKey::Str(text), true) => text.clone(),
                        (DictKey::Str(text), false) => format!("{path}.{text}"),
                        (DictKey::Int(number), _) => format!("{path}[{number}]"),
                    };
                    if let Value::Object(object) = &item {
                        removed.push((item_path, object.qualified_name()));
                        continue;
                    }
                    item.remove_nested_foreign_objects(&item_path, removed);
                    kept.insert(key, item);
                }
                *dict = kept;
            }
            Value::None
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Str(_)
            | Value::Bytes(_)
            | Value::Tensor(_)
            | Value::Object(_) => {}
        }
    }
}

/// Formats class counts for a log line, listing at most [`LOGGED_CLASS_LIMIT`] names.
pub(crate) fn describe_classes(classes: &BTreeMap<String, usize>) -> String {
    let mut parts: Vec<String> = classes
        .iter()
        .take(LOGGED_CLASS_LIMIT)
        .map(|(name, count)| format!("{name} ({count})"))
        .collect();
    if classes.len() > LOGGED_CLASS_LIMIT {
        parts.push(format!(
            "and {} more classes",
            classes.len() - LOGGED_CLASS_LIMIT
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(average: f64) -> Value {
        let mut object = ForeignObject::reference("lib.train.admin.stats", "AverageMeter");
        object.args = Some(Vec::new());
        object.state = Some(Value::Dict(Dict::new().with("avg", Value::Float(average))));
        Value::Object(Box::new(object))
    }

    #[test]
    fn foreign_classes_counts_nested_objects() {
        let mut settings = ForeignObject::reference("lib.train.admin.settings", "Settings");
        settings.state = Some(Value::Dict(Dict::new().with("meter", meter(1.0))));
        let value = Value::Dict(
            Dict::new()
                .with("settings", Value::Object(Box::new(settings)))
                .with("stats", Value::List(vec![meter(0.5), meter(0.25)])),
        );
        let classes = value.foreign_classes();
        assert_eq!(classes.get("lib.train.admin.stats.AverageMeter"), Some(&3));
        assert_eq!(classes.get("lib.train.admin.settings.Settings"), Some(&1));
        assert_eq!(classes.len(), 2);
    }

    #[test]
    fn remove_foreign_objects_names_paths() {
        let mut value = Value::Dict(
            Dict::new()
                .with("epoch", Value::Int(3))
                .with("settings", meter(1.0))
                .with(
                    "stats",
                    Value::Dict(Dict::new().with("train", Value::List(vec![meter(0.5)]))),
                ),
        );
        let removed = value.remove_foreign_objects();
        let class = "lib.train.admin.stats.AverageMeter".to_owned();
        assert_eq!(
            removed,
            vec![
                ("settings".to_owned(), class.clone()),
                ("stats.train[0]".to_owned(), class),
            ]
        );
        let expected = Value::Dict(Dict::new().with("epoch", Value::Int(3)).with(
            "stats",
            Value::Dict(Dict::new().with("train", Value::List(vec![Value::None]))),
        ));
        assert_eq!(value, expected);
        assert!(value.foreign_classes().is_empty());
    }

    #[test]
    fn attribute_reads_dict_and_slots_state() {
        let mut object = ForeignObject::reference("m", "C");
        object.state = Some(Value::Tuple(vec![
            Value::None,
            Value::Dict(Dict::new().with("x", Value::Int(4))),
        ]));
        assert_eq!(object.attribute("x"), Some(&Value::Int(4)));
        assert_eq!(object.attribute("y"), None);
    }

    #[test]
    fn describe_classes_limits_names() {
        let classes: BTreeMap<String, usize> =
            (0..10).map(|index| (format!("m.C{index}"), 1)).collect();
        let text = describe_classes(&classes);
        assert!(text.starts_with("m.C0 (1), m.C1 (1)"), "{text}");
        assert!(text.ends_with("m.C7 (1), and 2 more classes"), "{text}");
    }
}
