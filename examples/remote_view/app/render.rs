//! A small CPU rasterizer: the mesh, seen by the camera, shaded, into an RGB buffer.
//!
//! Per frame: every vertex is put in camera space and projected once; each triangle
//! is filled with edge functions over its bounding box, testing a depth buffer, with the lighting of its vertices interpolated across it (Gouraud shading,
//! a light at the eye). The background is a vertical gradient. No GPU, no dependency.

use super::camera::Camera;
use super::mesh::Mesh;

/// The vertical field of view, radians.
const FOV_Y: f32 = 0.8;
/// Points nearer the eye than this are not drawn.
const NEAR: f32 = 0.05;

/// A rendered frame: `width × height` RGB pixels, rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub(crate) width: u16,
    pub(crate) height: u16,
    pub(crate) rgb: Vec<u8>,
}

/// A vertex after projection: pixel position, depth, and its lit colour.
#[derive(Debug, Clone, Copy)]
struct Projected {
    x: f32,
    y: f32,
    depth: f32,
    color: [f32; 3],
}

/// Renders `mesh`, turned by `spin` radians around the vertical axis, as `camera`
/// sees it.
pub(crate) fn render(mesh: &Mesh, camera: &Camera, spin: f32, width: u16, height: u16) -> Frame {
    let (w, h) = (usize::from(width), usize::from(height));
    let mut rgb = background(w, h);
    let mut depth = vec![f32::INFINITY; w * h];
    let projected = project(mesh, camera, spin, width, height);
    for triangle in &mesh.triangles {
        let [a, b, c] = triangle.map(|i| projected.get(i as usize).copied().flatten());
        if let (Some(a), Some(b), Some(c)) = (a, b, c) {
            fill(&mut rgb, &mut depth, w, h, [a, b, c]);
        }
    }
    Frame { width, height, rgb }
}

/// Every vertex in pixels (`None` behind the near plane), lit by a light at the eye.
fn project(
    mesh: &Mesh,
    camera: &Camera,
    spin: f32,
    width: u16,
    height: u16,
) -> Vec<Option<Projected>> {
    let (eye, [right, up, forward]) = camera.frame();
    let (w, h) = (f32::from(width), f32::from(height));
    let focal = h / 2.0 / (FOV_Y / 2.0).tan();
    mesh.positions
        .iter()
        .zip(&mesh.normals)
        .zip(&mesh.colors)
        .map(|((p, n), color)| {
            let world = p.rotated_y(spin);
            let normal = n.rotated_y(spin);
            let rel = world - eye;
            let z = rel.dot(forward);
            if z < NEAR {
                return None;
            }
            let to_eye = (-rel).normalized();
            let light = 0.18 + 0.82 * normal.dot(to_eye).max(0.0);
            let highlight = normal.dot(to_eye).max(0.0).powi(24) * 0.35;
            Some(Projected {
                x: w / 2.0 + rel.dot(right) * focal / z,
                y: h / 2.0 - rel.dot(up) * focal / z,
                depth: z,
                color: color.map(|c| (c * light + highlight).min(1.0)),
            })
        })
        .collect()
}

/// Fills one triangle (either winding: the depth test keeps the nearest surface).
fn fill(rgb: &mut [u8], depth: &mut [f32], w: usize, h: usize, [a, b, c]: [Projected; 3]) {
    let area = edge(&a, &b, c.x, c.y);
    if area.abs() < f32::EPSILON {
        return;
    }
    let x0 = a.x.min(b.x).min(c.x).floor().max(0.0) as usize;
    let y0 = a.y.min(b.y).min(c.y).floor().max(0.0) as usize;
    let x1 = (a.x.max(b.x).max(c.x).ceil() as usize).min(w);
    let y1 = (a.y.max(b.y).max(c.y).ceil() as usize).min(h);
    for y in y0..y1 {
        let py = y as f32 + 0.5;
        for x in x0..x1 {
            let px = x as f32 + 0.5;
            let wa = edge(&b, &c, px, py) / area;
            let wb = edge(&c, &a, px, py) / area;
            let wc = 1.0 - wa - wb;
            if wa < 0.0 || wb < 0.0 || wc < 0.0 {
                continue;
            }
            let z = wa * a.depth + wb * b.depth + wc * c.depth;
            let at = y * w + x;
            if z >= depth[at] {
                continue;
            }
            depth[at] = z;
            for (k, out) in rgb[at * 3..at * 3 + 3].iter_mut().enumerate() {
                let value = wa * a.color[k] + wb * b.color[k] + wc * c.color[k];
                *out = (value * 255.0) as u8;
            }
        }
    }
}

/// Twice the signed area of (a, b, p).
fn edge(a: &Projected, b: &Projected, px: f32, py: f32) -> f32 {
    (b.x - a.x) * (py - a.y) - (b.y - a.y) * (px - a.x)
}

/// A dark blue-grey gradient, lighter at the bottom.
fn background(w: usize, h: usize) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let t = y as f32 / h.max(1) as f32;
        let row = [30.0 + 40.0 * t, 34.0 + 44.0 * t, 46.0 + 60.0 * t].map(|v| v as u8);
        for _ in 0..w {
            rgb.extend_from_slice(&row);
        }
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct_pixels(a: &Frame, b: &Frame) -> usize {
        a.rgb
            .chunks(3)
            .zip(b.rgb.chunks(3))
            .filter(|(p, q)| p != q)
            .count()
    }

    #[test]
    fn the_torus_covers_the_middle_of_the_view() {
        let mesh = Mesh::torus(1.0, 0.4, 48, 24);
        let frame = render(&mesh, &Camera::default(), 0.0, 64, 48);
        assert_eq!(frame.rgb.len(), 64 * 48 * 3);
        let empty = Frame {
            rgb: background(64, 48),
            ..frame.clone()
        };
        // A good share of the pixels show the object, not the background.
        assert!(distinct_pixels(&frame, &empty) > 64 * 48 / 10);
    }

    #[test]
    fn turning_the_object_or_the_camera_changes_the_image() {
        let mesh = Mesh::torus(1.0, 0.4, 48, 24);
        let still = render(&mesh, &Camera::default(), 0.0, 64, 48);
        let spun = render(&mesh, &Camera::default(), 0.5, 64, 48);
        let mut camera = Camera::default();
        camera.rotate(0.0, 0.1);
        let turned = render(&mesh, &camera, 0.0, 64, 48);
        assert!(distinct_pixels(&still, &spun) > 100);
        assert!(distinct_pixels(&still, &turned) > 100);
    }
}
