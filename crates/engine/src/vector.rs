//! Small vector helpers. Embeddings are stored L2-normalised, so cosine = dot product.

/// Scale `v` to unit length in place (a zero vector is left as it is).
pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Dot product; written so the compiler vectorises it.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8;
    for i in 0..chunks {
        let (x, y) = (&a[i * 8..i * 8 + 8], &b[i * 8..i * 8 + 8]);
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for i in chunks * 8..a.len() {
        s += a[i] * b[i];
    }
    s
}

/// Cosine similarity of two vectors of any length.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let na = dot(a, a).sqrt();
    let nb = dot(b, b).sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot(a, b) / (na * nb)
    }
}

/// Little-endian bytes of a vector, as stored in SQLite.
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The vector stored as little-endian bytes; `None` if the length is not a multiple of 4.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    Some(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn dot_matches_naive(v in proptest::collection::vec(-1f32..1.0, 0..50)) {
            let w: Vec<f32> = v.iter().map(|x| x * 0.5 + 0.1).collect();
            let naive: f32 = v.iter().zip(&w).map(|(a, b)| a * b).sum();
            prop_assert!((dot(&v, &w) - naive).abs() < 1e-4);
        }

        #[test]
        fn bytes_round_trip(v in proptest::collection::vec(any::<f32>(), 0..20)) {
            let back = from_bytes(&to_bytes(&v)).unwrap();
            prop_assert_eq!(back.len(), v.len());
            for (a, b) in back.iter().zip(&v) { prop_assert_eq!(a.to_bits(), b.to_bits()); }
        }
    }

    #[test]
    fn normalised_cosine_is_dot() {
        let mut a = vec![3.0, 4.0];
        normalize(&mut a);
        assert!((a[0] - 0.6).abs() < 1e-6 && (a[1] - 0.8).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[0.0, 2.0])).abs() < 1e-6);
        assert!(from_bytes(&[1, 2, 3]).is_none());
    }
}
