//! The trained parameters of a model: PyTorch key, burn id, shape and group.

use std::collections::BTreeSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use mixformer_model_vit::weights::export_weights;

/// The optimiser group of a parameter, in the reference's order: the head
/// group first, then the backbone group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Parameters whose key does not contain `backbone`, trained at `LR`.
    Head = 0,
    /// Parameters whose key contains `backbone`, trained at `LR * BACKBONE_MULTIPLIER`.
    Backbone = 1,
}

impl Group {
    /// The group of a PyTorch key, by the reference's substring rule.
    pub fn of(key: &str) -> Self {
        if key.contains("backbone") {
            Group::Backbone
        } else {
            Group::Head
        }
    }
}

/// One parameter of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// The PyTorch key, e.g. `backbone.blocks.0.attn.qkv.weight`.
    pub key: String,
    /// burn's id of the parameter in this model instance.
    pub id: ParamId,
    /// Shape in burn's layout.
    pub shape: Vec<usize>,
    /// Whether the PyTorch layout is the transpose (a `Linear` weight).
    pub transposed: bool,
    /// Whether the optimiser updates it: it requires a gradient and is not frozen.
    pub trained: bool,
    /// Its optimiser group.
    pub group: Group,
}

/// Every float parameter of `module` in visiting order, with `frozen` keys
/// (and parameters that need no gradient, such as the fixed positional
/// tables) marked as not trained.
pub fn param_table<M: Module>(module: &M, frozen: &BTreeSet<String>) -> Vec<ParamInfo> {
    let mut collector = IdCollector::default();
    module.visit(&mut collector);
    let keys = export_weights(module).into_iter().map(|(key, _)| key);
    collector
        .params
        .into_iter()
        .zip(keys)
        .map(|(found, key)| ParamInfo {
            trained: found.require_grad && !frozen.contains(&key),
            group: Group::of(&key),
            key,
            id: found.id,
            shape: found.shape,
            transposed: found.linear_weight,
        })
        .collect()
}

struct FoundParam {
    id: ParamId,
    shape: Vec<usize>,
    require_grad: bool,
    linear_weight: bool,
}

#[derive(Default)]
struct IdCollector {
    path: Vec<(String, String)>,
    params: Vec<FoundParam>,
}

impl ModuleVisitor for IdCollector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let linear_weight = matches!(
            self.path.last(),
            Some((name, container)) if name == "weight" && container == "Struct:Linear"
        );
        self.params.push(FoundParam {
            id: param.id,
            shape: param.lazy_shape().dims::<D>().to_vec(),
            require_grad: param.is_require_grad(),
            linear_weight,
        });
    }
}

/// Marks the parameters with the given ids as needing no gradient, so that
/// the backward pass skips them and the optimiser never updates them.
pub fn freeze<M: Module>(module: M, ids: &BTreeSet<ParamId>) -> M {
    struct Freezer<'a>(&'a BTreeSet<ParamId>);
    impl burn::module::ModuleMapper for Freezer<'_> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if self.0.contains(&param.id) {
                param.set_require_grad(false)
            } else {
                param
            }
        }
    }
    module.map(&mut Freezer(ids))
}
