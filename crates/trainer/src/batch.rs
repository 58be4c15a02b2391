//! Turning the data crate's plain arrays into tensors on the training device.

use burn::tensor::{Device, Tensor, TensorData};
use mixformer_data::{Array, Batch};
use mixformer_distill::TrainBatch;

/// Converts a batch to tensors on `device`.
///
/// `template_images` `[2, B, 3, H, W]` becomes the template (first entry)
/// and the online template (second entry); the first search frame and its
/// box become `search` and `search_anno`.
pub fn to_train_batch(batch: &Batch, device: &Device) -> Result<TrainBatch, String> {
    let templates = &batch.template_images;
    let search = &batch.search_images;
    if templates.shape.len() != 5 || templates.shape[0] < 2 {
        return Err(format!(
            "template images have shape {:?}, expected [2, B, 3, H, W] (a template and an \
             online template; set DATA.TEMPLATE.NUMBER to 2)",
            templates.shape
        ));
    }
    if search.shape.len() != 5 || search.shape[0] < 1 {
        return Err(format!(
            "search images have shape {:?}, expected [1, B, 3, H, W]",
            search.shape
        ));
    }
    let anno = &batch.search_anno;
    let size = search.shape[1];
    if anno.shape != [search.shape[0], size, 4] {
        return Err(format!(
            "search boxes have shape {:?}, expected [{}, {size}, 4]",
            anno.shape, search.shape[0]
        ));
    }
    Ok(TrainBatch {
        template: image(templates, 0, device),
        online_template: image(templates, 1, device),
        search: image(search, 0, device),
        search_anno: Tensor::from_data(
            TensorData::new(anno.data[..size * 4].to_vec(), [size, 4]),
            device,
        ),
        label: batch.label.as_ref().map(|label| {
            Tensor::from_data(
                TensorData::new(label.data.clone(), [label.data.len()]),
                device,
            )
        }),
    })
}

/// Entry `index` of a `[N, B, 3, H, W]` array as a `[B, 3, H, W]` tensor.
fn image(array: &Array, index: usize, device: &Device) -> Tensor<4> {
    let [_, batch, channels, height, width] = [
        array.shape[0],
        array.shape[1],
        array.shape[2],
        array.shape[3],
        array.shape[4],
    ];
    let per_entry = batch * channels * height * width;
    let values = array.data[index * per_entry..(index + 1) * per_entry].to_vec();
    Tensor::from_data(
        TensorData::new(values, [batch, channels, height, width]),
        device,
    )
}
