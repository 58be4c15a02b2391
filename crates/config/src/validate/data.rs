//! Rules of the `DATA` and `TEST` sections: crop sizes, datasets and tracking settings.

use super::Checks;
use crate::data::{DatasetsConfig, SamplerMode};
use crate::experiment::ExperimentConfig;

pub(super) fn check_data(config: &ExperimentConfig, checks: &mut Checks) {
    let data = &config.data;
    let patch = config.model.vit_type.patch_size();

    for (key, size) in [
        ("DATA.SEARCH.SIZE", data.search.size),
        ("DATA.TEMPLATE.SIZE", data.template.size),
    ] {
        if size == 0 || !size.is_multiple_of(patch) {
            checks.fail(
                key,
                format!(
                    "{key} is {size} but must be a positive multiple of the patch size {patch}"
                ),
            );
        }
    }
    checks.positive("DATA.SEARCH.FACTOR", data.search.factor);
    checks.positive("DATA.TEMPLATE.FACTOR", data.template.factor);
    checks.non_negative("DATA.SEARCH.CENTER_JITTER", data.search.center_jitter);
    checks.non_negative("DATA.SEARCH.SCALE_JITTER", data.search.scale_jitter);
    checks.non_negative("DATA.TEMPLATE.CENTER_JITTER", data.template.center_jitter);
    checks.non_negative("DATA.TEMPLATE.SCALE_JITTER", data.template.scale_jitter);
    if data.template.number != 2 {
        checks.fail(
            "DATA.TEMPLATE.NUMBER",
            format!(
                "DATA.TEMPLATE.NUMBER is {} but the model takes the first template and one \
                 online template; set it to 2",
                data.template.number
            ),
        );
    }
    for (channel, (mean, std)) in data.mean.iter().zip(&data.std).enumerate() {
        if !mean.is_finite() {
            checks.fail(
                format!("DATA.MEAN[{channel}]"),
                format!("DATA.MEAN[{channel}] is {mean} but must be a finite number"),
            );
        }
        checks.positive(&format!("DATA.STD[{channel}]"), *std);
    }
    checks.at_least_one("DATA.MAX_SAMPLE_INTERVAL", data.max_sample_interval);
    check_datasets(config, "DATA.TRAIN", &data.train, checks);
    check_datasets(config, "DATA.VAL", &data.val, checks);

    let trains_score = config.train.train_score && config.script.has_score_head();
    if trains_score && data.sampler_mode == SamplerMode::Causal {
        checks.fail(
            "DATA.SAMPLER_MODE",
            "TRAIN.TRAIN_SCORE is true but DATA.SAMPLER_MODE is causal, which cannot draw \
             negative samples; use trident_pro",
        );
    }
}

fn check_datasets(
    config: &ExperimentConfig,
    section: &str,
    datasets: &DatasetsConfig,
    checks: &mut Checks,
) {
    let names = datasets.datasets_name.len();
    let ratios = datasets.datasets_ratio.len();
    if names == 0 {
        checks.fail(
            format!("{section}.DATASETS_NAME"),
            format!("{section}.DATASETS_NAME is empty; name at least one dataset"),
        );
    }
    if names != ratios {
        checks.fail(
            format!("{section}.DATASETS_RATIO"),
            format!(
                "{section}.DATASETS_RATIO has {ratios} values but {section}.DATASETS_NAME \
                 names {names} datasets; give one ratio per dataset"
            ),
        );
    }
    for (index, ratio) in datasets.datasets_ratio.iter().enumerate() {
        checks.non_negative(&format!("{section}.DATASETS_RATIO[{index}]"), *ratio);
    }
    if datasets.datasets_ratio.iter().all(|ratio| *ratio <= 0.0) && ratios > 0 {
        checks.fail(
            format!("{section}.DATASETS_RATIO"),
            format!("{section}.DATASETS_RATIO is all zeros; at least one ratio must be positive"),
        );
    }
    let batch_size = config.train.batch_size;
    if datasets.sample_per_epoch < batch_size {
        checks.fail(
            format!("{section}.SAMPLE_PER_EPOCH"),
            format!(
                "{section}.SAMPLE_PER_EPOCH is {} but TRAIN.BATCH_SIZE is {batch_size}, so an \
                 epoch would have no full batch",
                datasets.sample_per_epoch
            ),
        );
    }
}

pub(super) fn check_test(config: &ExperimentConfig, checks: &mut Checks) {
    let test = &config.test;
    let data = &config.data;
    for (key, value, data_key, data_value) in [
        (
            "TEST.TEMPLATE_SIZE",
            test.template_size,
            "DATA.TEMPLATE.SIZE",
            data.template.size,
        ),
        (
            "TEST.SEARCH_SIZE",
            test.search_size,
            "DATA.SEARCH.SIZE",
            data.search.size,
        ),
    ] {
        if value != data_value {
            checks.fail(
                key,
                format!(
                    "{key} is {value} but the network is built for {data_key} {data_value}; \
                     set {key}: {data_value}"
                ),
            );
        }
    }
    checks.positive("TEST.TEMPLATE_FACTOR", test.template_factor);
    checks.positive("TEST.SEARCH_FACTOR", test.search_factor);

    if let Some(epoch) = test.epoch
        && !(1..=config.train.epoch).contains(&epoch)
    {
        checks.fail(
            "TEST.EPOCH",
            format!(
                "TEST.EPOCH is {epoch} but checkpoints exist for epochs 1 to TRAIN.EPOCH {}",
                config.train.epoch
            ),
        );
    }
    for (dataset, interval) in &test.update_intervals {
        checks.at_least_one(&format!("TEST.UPDATE_INTERVALS.{dataset}"), *interval);
    }
    for (dataset, size) in &test.online_sizes {
        if *size != 1 {
            let key = format!("TEST.ONLINE_SIZES.{dataset}");
            checks.fail(
                key.clone(),
                format!("{key} is {size} but only one online template is supported; set it to 1"),
            );
        }
    }
}
