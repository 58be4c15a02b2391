//! Converts module parameters to and from PyTorch state-dict keys and layouts.
//!
//! Module fields are named after the PyTorch modules, so most keys are the
//! burn parameter path itself. The exceptions form this mapping table, applied
//! per path segment according to the struct that owns the field:
//!
//! | owner | burn field | PyTorch name |
//! |---|---|---|
//! | `LayerNorm`, `BatchNorm` | `gamma`, `beta` | `weight`, `bias` |
//! | `ConvUnit` | `conv`, `bn` | `0`, `1` |
//! | `CornerHead` | `tl.<unit>`, `br.<unit>` | `<unit>_tl`, `<unit>_br` |
//! | `CornerBranch` | `upsampling` | (dropped: its units sit beside `conv1`) |
//! | `DistributionHead` | `hidden`, `hidden_norm`, `output`, `output_norm` | `layers.0.0`, `layers.0.1`, `layers.1.0`, `layers.1.1` |
//! | `ScoreHead` | `hidden`, `output` | `layers.0.0`, `layers.1` |
//! | enum `BoxHead` | variant name | (dropped) |
//!
//! `Linear` weights are `[in, out]` in burn and `[out, in]` in PyTorch, so they
//! are transposed in both directions.

use std::collections::BTreeSet;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

/// Keys of fixed positional tables: written on save, never read on load,
/// because they are recomputed from the configuration.
pub const FIXED_TABLE_KEYS: [&str; 3] = ["pos_embed_t", "pos_embed_s", "pos_embed"];

/// A tensor in PyTorch layout: shape and row-major `f32` values.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTensor {
    /// Shape in PyTorch's layout.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub values: Vec<f32>,
}

/// Source of the tensors [`import_weights`] reads, by PyTorch key.
pub trait WeightSource {
    /// Returns every key of the source.
    fn keys(&self) -> Vec<String>;
    /// Returns the shape of a key without converting its values.
    fn shape(&self, key: &str) -> Option<Vec<usize>>;
    /// Returns the tensor of a key as `f32`.
    fn tensor(&self, key: &str) -> Option<WeightTensor>;
}

impl WeightSource for std::collections::BTreeMap<String, WeightTensor> {
    fn keys(&self) -> Vec<String> {
        std::collections::BTreeMap::keys(self).cloned().collect()
    }

    fn shape(&self, key: &str) -> Option<Vec<usize>> {
        self.get(key).map(|tensor| tensor.shape.clone())
    }

    fn tensor(&self, key: &str) -> Option<WeightTensor> {
        self.get(key).cloned()
    }
}

/// Outcome of a load, by PyTorch key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    /// Keys that were loaded.
    pub loaded: Vec<String>,
    /// Keys the model has and the file lacks.
    pub missing: Vec<String>,
    /// Keys the file has and the model lacks (after the ignored ones).
    pub unexpected: Vec<String>,
    /// Keys present in both with different shapes: `(key, file shape, model shape)`.
    pub shape_mismatches: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Keys skipped on purpose (fixed tables, batch-norm counters, leftovers of
    /// the classification ViT).
    pub ignored: Vec<String>,
}

impl LoadReport {
    /// Missing keys that do not start with one of `allowed_prefixes`.
    pub fn missing_except(&self, allowed_prefixes: &[&str]) -> Vec<String> {
        self.missing
            .iter()
            .filter(|key| {
                !allowed_prefixes
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
            })
            .cloned()
            .collect()
    }
}

/// Collects every parameter of `module` under its PyTorch key and layout.
pub fn export_weights<M: Module>(module: &M) -> Vec<(String, WeightTensor)> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    collector.tensors
}

/// Replaces the parameters of `module` by the tensors of `source` with the same
/// PyTorch key and returns the module with a report.
///
/// Tensors with a shape mismatch are left as they were and listed; the caller
/// decides which missing keys are acceptable. Keys in `ignore` (matched as
/// whole dotted segments, so `norm` matches `backbone.norm.weight` but not
/// `norm1.weight`), fixed positional tables and `num_batches_tracked` counters
/// are listed as ignored rather than unexpected.
pub fn import_weights<M: Module>(
    module: M,
    source: &dyn WeightSource,
    ignore: &[&str],
) -> (M, LoadReport) {
    let mut loader = Loader {
        path: PathTracker::default(),
        source,
        report: LoadReport::default(),
        seen: BTreeSet::new(),
    };
    let module = module.map(&mut loader);

    let mut report = loader.report;
    for key in source.keys() {
        if loader.seen.contains(&key) {
            continue;
        }
        if is_ignored(&key, ignore) {
            report.ignored.push(key);
        } else {
            report.unexpected.push(key);
        }
    }
    (module, report)
}

/// Whether a key is skipped on load without being reported as unexpected.
fn is_ignored(key: &str, ignore: &[&str]) -> bool {
    let segments: Vec<&str> = key.split('.').collect();
    let last = segments.last().copied().unwrap_or_default();
    FIXED_TABLE_KEYS.contains(&last)
        || last == "num_batches_tracked"
        || ignore.iter().any(|pattern| {
            let pattern: Vec<&str> = pattern.split('.').collect();
            segments
                .windows(pattern.len())
                .any(|window| window == pattern.as_slice())
        })
}

/// The burn path being visited, with the struct that owns each segment.
#[derive(Default)]
struct PathTracker {
    segments: Vec<(String, String)>,
}

impl PathTracker {
    fn enter(&mut self, name: &str, container: &str) {
        self.segments
            .push((name.to_string(), container.to_string()));
    }

    fn exit(&mut self) {
        self.segments.pop();
    }

    /// The PyTorch key of the current path and whether it is a `Linear` weight.
    fn torch_key(&self) -> (String, bool) {
        let mut parts: Vec<String> = Vec::with_capacity(self.segments.len() + 2);
        let mut branch_suffix: Option<&str> = None;
        for (name, container) in &self.segments {
            let owner = container.strip_prefix("Struct:").unwrap_or(container);
            if container.starts_with("Enum:") {
                continue;
            }
            let mapped: &[&str] = match (owner, name.as_str()) {
                ("LayerNorm" | "BatchNorm", "gamma") => &["weight"],
                ("LayerNorm" | "BatchNorm", "beta") => &["bias"],
                ("ConvUnit", "conv") => &["0"],
                ("ConvUnit", "bn") => &["1"],
                ("CornerHead", "tl" | "br") => {
                    branch_suffix = Some(if name == "tl" { "tl" } else { "br" });
                    &[]
                }
                ("CornerBranch", "upsampling") => &[],
                ("DistributionHead", "hidden") => &["layers", "0", "0"],
                ("DistributionHead", "hidden_norm") => &["layers", "0", "1"],
                ("DistributionHead", "output") => &["layers", "1", "0"],
                ("DistributionHead", "output_norm") => &["layers", "1", "1"],
                ("ScoreHead", "hidden") => &["layers", "0", "0"],
                ("ScoreHead", "output") => &["layers", "1"],
                _ => {
                    let unit = matches!(owner, "CornerBranch" | "UpsamplingPath");
                    match (unit, branch_suffix) {
                        (true, Some(suffix)) => parts.push(format!("{name}_{suffix}")),
                        _ => parts.push(name.clone()),
                    }
                    continue;
                }
            };
            parts.extend(mapped.iter().map(|part| part.to_string()));
        }

        let is_linear_weight = matches!(
            self.segments.last(),
            Some((name, container)) if name == "weight" && container == "Struct:Linear"
        );
        (parts.join("."), is_linear_weight)
    }
}

#[derive(Default)]
struct Collector {
    path: PathTracker,
    tensors: Vec<(String, WeightTensor)>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let (key, is_linear_weight) = self.path.torch_key();
        let mut tensor = param.val();
        if is_linear_weight {
            tensor = tensor.transpose();
        }
        let shape = tensor.dims().to_vec();
        let values = tensor
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("a converted float tensor reads back as f32");
        self.tensors.push((key, WeightTensor { shape, values }));
    }
}

struct Loader<'a> {
    path: PathTracker,
    source: &'a dyn WeightSource,
    report: LoadReport,
    seen: BTreeSet<String>,
}

impl ModuleMapper for Loader<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (key, is_linear_weight) = self.path.torch_key();
        if is_ignored(&key, &[]) {
            return param;
        }
        let Some(file_shape) = self.source.shape(&key) else {
            self.report.missing.push(key);
            return param;
        };
        self.seen.insert(key.clone());

        let mut model_shape = param.lazy_shape().dims::<D>().to_vec();
        if is_linear_weight {
            model_shape.reverse();
        }
        if file_shape != model_shape {
            self.report
                .shape_mismatches
                .push((key, file_shape, model_shape));
            return param;
        }
        let Some(weight) = self.source.tensor(&key) else {
            self.report.missing.push(key);
            return param;
        };

        let (id, current, mapper) = param.consume();
        let device = current.device();
        let mut tensor =
            Tensor::<D>::from_data(TensorData::new(weight.values, weight.shape), &device);
        if is_linear_weight {
            tensor = tensor.transpose();
        }
        if current.is_require_grad() {
            tensor = tensor.require_grad();
        }
        self.report.loaded.push(key);
        Param::from_mapped_value(id, tensor, mapper)
    }
}
