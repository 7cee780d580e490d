//! Small dense matrices over GF(2⁸): the encoding matrix of blkar's Reed–Solomon code and
//! the inverses that decode it.
//!
//! The encoding matrix is reed-solomon-erasure's: the (M+P)×M Vandermonde matrix
//! V[r][c] = r^c, made systematic by multiplying it with the inverse of its top M×M square,
//! so its top is the identity and its bottom P rows give the parity. That matrix is what
//! makes our parity byte-identical to blkar's: this module must never change it.

use super::gf256::{div, exp, mul};

/// A rows × cols matrix, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    cells: Vec<u8>,
}

impl Matrix {
    pub fn zero(rows: usize, cols: usize) -> Matrix {
        Matrix {
            rows,
            cols,
            cells: vec![0; rows * cols],
        }
    }

    pub fn identity(n: usize) -> Matrix {
        let mut m = Matrix::zero(n, n);
        for i in 0..n {
            m.set(i, i, 1);
        }
        m
    }

    /// V[r][c] = r^c (0⁰ = 1): rows over distinct points, so any `cols` rows are independent.
    pub fn vandermonde(rows: usize, cols: usize) -> Matrix {
        let mut m = Matrix::zero(rows, cols);
        for r in 0..rows {
            for c in 0..cols {
                m.set(r, c, exp(r as u8, c));
            }
        }
        m
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn get(&self, r: usize, c: usize) -> u8 {
        self.cells[r * self.cols + c]
    }

    pub fn set(&mut self, r: usize, c: usize, v: u8) {
        self.cells[r * self.cols + c] = v;
    }

    pub fn row(&self, r: usize) -> &[u8] {
        &self.cells[r * self.cols..(r + 1) * self.cols]
    }

    /// The matrix made of these rows, in this order.
    pub fn select_rows(&self, rows: &[usize]) -> Matrix {
        let mut m = Matrix::zero(rows.len(), self.cols);
        for (i, &r) in rows.iter().enumerate() {
            m.cells[i * self.cols..(i + 1) * self.cols].copy_from_slice(self.row(r));
        }
        m
    }

    pub fn multiply(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.cols, other.rows, "matrix shapes do not chain");
        let mut out = Matrix::zero(self.rows, other.cols);
        for r in 0..self.rows {
            for c in 0..other.cols {
                let v =
                    (0..self.cols).fold(0u8, |acc, k| acc ^ mul(self.get(r, k), other.get(k, c)));
                out.set(r, c, v);
            }
        }
        out
    }

    /// The inverse (Gauss–Jordan elimination), or `None` when singular.
    pub fn invert(&self) -> Option<Matrix> {
        assert_eq!(self.rows, self.cols, "only square matrices have inverses");
        let n = self.rows;
        let mut a = self.clone();
        let mut inv = Matrix::identity(n);
        for col in 0..n {
            let pivot = (col..n).find(|&r| a.get(r, col) != 0)?;
            a.swap_rows(col, pivot);
            inv.swap_rows(col, pivot);
            let scale = div(1, a.get(col, col));
            a.scale_row(col, scale);
            inv.scale_row(col, scale);
            for r in 0..n {
                let f = a.get(r, col);
                if r != col && f != 0 {
                    a.add_row_multiple(r, col, f);
                    inv.add_row_multiple(r, col, f);
                }
            }
        }
        Some(inv)
    }

    fn swap_rows(&mut self, a: usize, b: usize) {
        if a != b {
            for c in 0..self.cols {
                self.cells.swap(a * self.cols + c, b * self.cols + c);
            }
        }
    }

    fn scale_row(&mut self, r: usize, f: u8) {
        for v in &mut self.cells[r * self.cols..(r + 1) * self.cols] {
            *v = mul(*v, f);
        }
    }

    /// row[r] += f · row[from] (addition is XOR).
    fn add_row_multiple(&mut self, r: usize, from: usize, f: u8) {
        for c in 0..self.cols {
            let v = self.get(r, c) ^ mul(f, self.get(from, c));
            self.set(r, c, v);
        }
    }
}

/// The (data + parity) × data encoding matrix of blkar's code (see the module doc).
pub fn encoding_matrix(data: usize, parity: usize) -> Matrix {
    let total = data + parity;
    assert!(
        data >= 1 && total <= 256,
        "shard counts out of range: {data} + {parity}"
    );
    let v = Matrix::vandermonde(total, data);
    let top = v.select_rows(&(0..data).collect::<Vec<_>>());
    let top_inv = top
        .invert()
        .expect("a square Vandermonde matrix over distinct points is invertible");
    v.multiply(&top_inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_matrix_is_systematic_and_any_m_rows_invert() {
        for (m, p) in [(1, 1), (3, 2), (10, 2), (4, 4), (20, 7)] {
            let e = encoding_matrix(m, p);
            assert_eq!((e.rows(), e.cols()), (m + p, m));
            assert_eq!(
                e.select_rows(&(0..m).collect::<Vec<_>>()),
                Matrix::identity(m)
            );
            // Lose the first min(m, p) rows: what is left still decodes.
            let kept: Vec<usize> = (m.min(p)..m + m.min(p)).collect();
            let sub = e.select_rows(&kept);
            let inv = sub.invert().expect("invertible");
            assert_eq!(sub.multiply(&inv), Matrix::identity(m));
        }
    }

    #[test]
    fn parity_rows_of_10_plus_2_are_blkars() {
        let e = encoding_matrix(10, 2);
        assert_eq!(
            e.row(10),
            [0x81, 0x96, 0xAF, 0xB8, 0xD2, 0xC4, 0xFE, 0xE8, 0x03, 0x02]
        );
    }

    #[test]
    fn a_singular_matrix_has_no_inverse() {
        let mut m = Matrix::identity(3);
        m.set(2, 2, 0);
        assert_eq!(m.invert(), None);
    }
}
