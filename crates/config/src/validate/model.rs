//! Rules of the `MODEL` section: backbone sizes and the box head.

use super::Checks;
use crate::experiment::ExperimentConfig;
use crate::model::HeadType;
use crate::script::Script;

/// Names the backbone size `key` for messages: the key with its value, or the
/// `VIT_TYPE` preset it came from when the file does not set it.
fn size_source(config: &ExperimentConfig, key: &str, set: Option<usize>, value: usize) -> String {
    match set {
        Some(_) => format!("MODEL.BACKBONE.{key} {value}"),
        None => format!(
            "{value} (MODEL.BACKBONE.{key} of VIT_TYPE {})",
            config.model.vit_type.as_str()
        ),
    }
}

pub(super) fn check_backbone(config: &ExperimentConfig, checks: &mut Checks) {
    let backbone = &config.model.backbone;
    let architecture = config.architecture();
    let embed_dim = architecture.embed_dim;
    let num_heads = architecture.num_heads;
    let width = size_source(config, "EMBED_DIM", backbone.embed_dim, embed_dim);
    let heads = size_source(config, "NUM_HEADS", backbone.num_heads, num_heads);

    checks.at_least_one("MODEL.BACKBONE.EMBED_DIM", embed_dim);
    checks.at_least_one("MODEL.BACKBONE.NUM_HEADS", num_heads);
    checks.at_least_one("MODEL.BACKBONE.DEPTH", architecture.depth);
    if num_heads > 0 && !embed_dim.is_multiple_of(num_heads) {
        checks.fail(
            "MODEL.BACKBONE.NUM_HEADS",
            format!("the token width {width} is not divisible by the head count {heads}"),
        );
    }
    if !embed_dim.is_multiple_of(4) {
        checks.fail(
            "MODEL.BACKBONE.EMBED_DIM",
            format!(
                "the token width {width} is not a multiple of 4, which the 2-D \
                 sine-cosine positional embedding needs"
            ),
        );
    }
    if embed_dim != config.model.hidden_dim {
        checks.fail(
            "MODEL.HIDDEN_DIM",
            format!(
                "MODEL.HIDDEN_DIM is {} but the heads read tokens of width {width}; \
                 set MODEL.HIDDEN_DIM: {embed_dim}",
                config.model.hidden_dim
            ),
        );
    }

    let ratio = architecture.mlp_ratio;
    let hidden = embed_dim as f64 * ratio;
    if !(ratio.is_finite() && ratio > 0.0) || hidden.fract() != 0.0 {
        checks.fail(
            "MODEL.BACKBONE.MLP_RATIO",
            format!(
                "MODEL.BACKBONE.MLP_RATIO is {ratio} but the MLP width {embed_dim} x {ratio} \
                 must be a positive whole number"
            ),
        );
    }
    let drop_path = backbone.drop_path_rate;
    if !(0.0..1.0).contains(&drop_path) {
        checks.fail(
            "MODEL.BACKBONE.DROP_PATH_RATE",
            format!("MODEL.BACKBONE.DROP_PATH_RATE is {drop_path} but must lie in [0, 1)"),
        );
    }
    if backbone.pretrained && backbone.pretrained_path.as_os_str().is_empty() {
        checks.fail(
            "MODEL.BACKBONE.PRETRAINED_PATH",
            "MODEL.BACKBONE.PRETRAINED is true but MODEL.BACKBONE.PRETRAINED_PATH is empty",
        );
    }
}

pub(super) fn check_head(config: &ExperimentConfig, checks: &mut Checks) {
    let model = &config.model;
    let head = model.head_type;
    let search_size = config.data.search.size;

    let allowed: &[HeadType] = match config.script {
        Script::MixformerVit => &[HeadType::Corner, HeadType::CornerUp],
        _ => &[HeadType::Mlp],
    };
    if !allowed.contains(&head) {
        let names: Vec<&str> = allowed.iter().map(|head| head.as_str()).collect();
        checks.fail(
            "MODEL.HEAD_TYPE",
            format!(
                "MODEL.HEAD_TYPE is {} but script {} builds only {}",
                head.as_str(),
                config.script,
                names.join(" or ")
            ),
        );
    }

    match head {
        HeadType::Mlp => {
            let expected = search_size / 4;
            if model.feat_sz != expected || !search_size.is_multiple_of(4) {
                checks.fail(
                    "MODEL.FEAT_SZ",
                    format!(
                        "MODEL.FEAT_SZ is {} but DATA.SEARCH.SIZE {search_size} needs {expected} \
                         (one bin per 4 pixels)",
                        model.feat_sz
                    ),
                );
            }
        }
        HeadType::Corner | HeadType::CornerUp => {
            if model.head_dim < 8 || !model.head_dim.is_multiple_of(8) {
                checks.fail(
                    "MODEL.HEAD_DIM",
                    format!(
                        "MODEL.HEAD_DIM is {} but the corner head halves it three times, \
                         so it must be a positive multiple of 8",
                        model.head_dim
                    ),
                );
            }
        }
    }

    if model.num_object_queries != 1 {
        checks.fail(
            "MODEL.NUM_OBJECT_QUERIES",
            format!(
                "MODEL.NUM_OBJECT_QUERIES is {} but only 1 is supported",
                model.num_object_queries
            ),
        );
    }
    if model.predict_mask {
        checks.fail(
            "MODEL.PREDICT_MASK",
            "MODEL.PREDICT_MASK is true but mask prediction is not implemented; set it to false",
        );
    }
}
