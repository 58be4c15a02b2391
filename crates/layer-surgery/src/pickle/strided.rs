//! Copying a strided tensor view out of its storage into contiguous row-major bytes.

/// Gathers the elements of a view into contiguous bytes.
///
/// `first` is the element index of the view's first element in `storage`. The
/// caller has checked that every addressed element lies inside `storage`.
pub(crate) fn gather(
    storage: &[u8],
    element_size: usize,
    first: usize,
    shape: &[usize],
    stride: &[usize],
) -> Vec<u8> {
    let numel: usize = shape.iter().product();
    if numel == 0 {
        return Vec::new();
    }
    if is_contiguous(shape, stride) {
        let start = first * element_size;
        return storage[start..start + numel * element_size].to_vec();
    }

    let mut out = Vec::with_capacity(numel * element_size);
    let rank = shape.len();
    let inner_size = shape[rank - 1];
    let inner_stride = stride[rank - 1];
    let mut index = vec![0usize; rank - 1];
    loop {
        // Row start: the offset of element [index..., 0].
        let row = index
            .iter()
            .zip(stride)
            .fold(first, |offset, (&position, &step)| offset + position * step);
        for column in 0..inner_size {
            let start = (row + column * inner_stride) * element_size;
            out.extend_from_slice(&storage[start..start + element_size]);
        }

        // Odometer increment over the outer dimensions.
        let mut dim = rank - 1;
        loop {
            if dim == 0 {
                return out;
            }
            dim -= 1;
            index[dim] += 1;
            if index[dim] < shape[dim] {
                break;
            }
            index[dim] = 0;
        }
    }
}

/// Returns whether a view of a non-empty tensor is laid out row-major without gaps.
/// Strides of size-1 dimensions do not matter, as in PyTorch's `is_contiguous`.
fn is_contiguous(shape: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1usize;
    for (&size, &step) in shape.iter().zip(stride).rev() {
        if size != 1 && step != expected {
            return false;
        }
        expected *= size;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(values: &[f32]) -> Vec<u8> {
        values
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect()
    }

    #[test]
    fn transposed_view_is_reordered() {
        // torch.arange(6.).reshape(2, 3).t(): size (3, 2), stride (1, 3).
        let storage = floats(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let out = gather(&storage, 4, 0, &[3, 2], &[1, 3]);
        assert_eq!(out, floats(&[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]));
    }

    #[test]
    fn offset_slice_starts_at_first_element() {
        let storage = floats(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let out = gather(&storage, 4, 2, &[3], &[1]);
        assert_eq!(out, floats(&[2.0, 3.0, 4.0]));
    }

    #[test]
    fn zero_stride_repeats_elements() {
        // torch.tensor([7.]).expand(2, 3)
        let storage = floats(&[7.0]);
        let out = gather(&storage, 4, 0, &[2, 3], &[0, 0]);
        assert_eq!(out, floats(&[7.0; 6]));
    }

    #[test]
    fn scalar_view_copies_one_element() {
        let storage = floats(&[1.0, 9.0]);
        assert_eq!(gather(&storage, 4, 1, &[], &[]), floats(&[9.0]));
    }
}
