//! Rules that types cannot express: sizes that must fit the patch grid, layer
//! indices within the depth, lists of matching length, and settings that only
//! some scripts can use.

mod data;
mod model;
mod train;

use crate::error::Problem;
use crate::experiment::ExperimentConfig;
use crate::script::Script;

/// Collects every problem of `config`; an empty list means it is valid.
pub(crate) fn problems(config: &ExperimentConfig) -> Vec<Problem> {
    let mut checks = Checks::default();
    model::check_backbone(config, &mut checks);
    model::check_head(config, &mut checks);
    data::check_data(config, &mut checks);
    train::check_train(config, &mut checks);
    if config.script == Script::Mixformer2VitStu {
        train::check_layers(config, &mut checks);
    }
    data::check_test(config, &mut checks);
    checks.problems
}

#[derive(Default)]
struct Checks {
    problems: Vec<Problem>,
}

impl Checks {
    fn fail(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            message: message.into(),
        });
    }

    fn positive(&mut self, key: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            self.fail(
                key,
                format!("{key} is {value} but must be a positive number"),
            );
        }
    }

    fn non_negative(&mut self, key: &str, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            self.fail(
                key,
                format!("{key} is {value} but must be zero or positive"),
            );
        }
    }

    fn at_least_one(&mut self, key: &str, value: usize) {
        if value == 0 {
            self.fail(key, format!("{key} is 0 but must be at least 1"));
        }
    }
}
