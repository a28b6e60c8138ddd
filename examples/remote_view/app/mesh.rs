//! The scene: a torus with coloured bands, so that a turn is easy to see.

use super::math::Vec3;

/// A triangle mesh with a normal and a colour per vertex.
#[derive(Debug, Clone)]
pub(crate) struct Mesh {
    pub(crate) positions: Vec<Vec3>,
    pub(crate) normals: Vec<Vec3>,
    pub(crate) colors: Vec<[f32; 3]>,
    pub(crate) triangles: Vec<[u32; 3]>,
}

impl Mesh {
    /// A torus around the vertical axis: `rings` segments around the axis, `sides`
    /// around the tube. Each eighth of the ring has its own colour.
    pub(crate) fn torus(major: f32, minor: f32, rings: u32, sides: u32) -> Mesh {
        let mut mesh = Mesh {
            positions: Vec::new(),
            normals: Vec::new(),
            colors: Vec::new(),
            triangles: Vec::new(),
        };
        let tau = std::f32::consts::TAU;
        for i in 0..=rings {
            let u = i as f32 / rings as f32;
            let (su, cu) = (u * tau).sin_cos();
            let color = band_color(u);
            for j in 0..=sides {
                let (sv, cv) = (j as f32 / sides as f32 * tau).sin_cos();
                let normal = Vec3::new(cu * cv, sv, su * cv);
                let center = Vec3::new(cu * major, 0.0, su * major);
                mesh.positions.push(center + normal * minor);
                mesh.normals.push(normal);
                mesh.colors.push(color);
            }
        }
        let stride = sides + 1;
        for i in 0..rings {
            for j in 0..sides {
                let a = i * stride + j;
                let (b, c, d) = (a + stride, a + 1, a + stride + 1);
                mesh.triangles.push([a, b, c]);
                mesh.triangles.push([c, b, d]);
            }
        }
        mesh
    }
}

/// Eight bands: alternately a colour of the wheel and a light grey.
fn band_color(u: f32) -> [f32; 3] {
    let band = ((u * 8.0) as u32).min(7);
    if band % 2 == 1 {
        return [0.85, 0.85, 0.85];
    }
    const WHEEL: [[f32; 3]; 4] = [
        [0.90, 0.25, 0.20],
        [0.95, 0.75, 0.20],
        [0.25, 0.70, 0.35],
        [0.25, 0.45, 0.90],
    ];
    WHEEL[(band / 2) as usize]
}
