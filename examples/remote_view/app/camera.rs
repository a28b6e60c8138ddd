//! An orbit camera: it looks at the origin from a point on a sphere around it.
//!
//! A drag turns it (azimuth and elevation), the wheel and a right-button drag move it
//! nearer or farther. The renderer asks it for the two things it needs: where the eye
//! is, and the basis (right, up, forward) to put points in front of it.

use super::math::Vec3;

/// The distance limits; the reset distance sits between them.
const NEAREST: f32 = 1.6;
const FARTHEST: f32 = 20.0;
const RESET_DISTANCE: f32 = 4.2;
/// Elevation stays short of the poles, where "up" would flip.
const MAX_ELEVATION: f32 = 1.5;

/// Where the camera is, in spherical coordinates around the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Camera {
    /// Angle around the vertical axis, radians.
    pub(crate) azimuth: f32,
    /// Angle above the horizontal plane, radians.
    pub(crate) elevation: f32,
    /// Distance from the origin.
    pub(crate) distance: f32,
}

impl Default for Camera {
    fn default() -> Self {
        Camera {
            azimuth: 0.6,
            elevation: 0.45,
            distance: RESET_DISTANCE,
        }
    }
}

impl Camera {
    /// Turns the camera by a drag of `(dx, dy)`, in fractions of the view (a drag across
    /// the whole view is one and a half turns).
    pub(crate) fn rotate(&mut self, dx: f32, dy: f32) {
        let turn = 1.5 * std::f32::consts::TAU;
        self.azimuth -= dx * turn;
        self.elevation = (self.elevation - dy * turn / 2.0).clamp(-MAX_ELEVATION, MAX_ELEVATION);
    }

    /// Moves nearer (`factor` < 1) or farther (`factor` > 1), within the limits.
    pub(crate) fn zoom(&mut self, factor: f32) {
        if factor.is_finite() && factor > 0.0 {
            self.distance = (self.distance * factor).clamp(NEAREST, FARTHEST);
        }
    }

    /// The eye's position.
    pub(crate) fn eye(&self) -> Vec3 {
        let (sa, ca) = self.azimuth.sin_cos();
        let (se, ce) = self.elevation.sin_cos();
        Vec3::new(ca * ce, se, sa * ce) * self.distance
    }

    /// The eye's position and its basis: right, up, and forward (towards the origin).
    pub(crate) fn frame(&self) -> (Vec3, [Vec3; 3]) {
        let eye = self.eye();
        let forward = (-eye).normalized();
        let right = forward.cross(Vec3::new(0.0, 1.0, 0.0)).normalized();
        let up = right.cross(forward);
        (eye, [right, up, forward])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_turns_and_the_poles_are_not_crossed() {
        let mut camera = Camera::default();
        camera.rotate(0.1, 0.0);
        assert!(camera.azimuth < Camera::default().azimuth);
        camera.rotate(0.0, -10.0);
        assert_eq!(camera.elevation, MAX_ELEVATION);
    }

    #[test]
    fn zoom_stays_within_its_limits_and_ignores_nonsense() {
        let mut camera = Camera::default();
        camera.zoom(0.0001);
        assert_eq!(camera.distance, NEAREST);
        camera.zoom(f32::NAN);
        assert_eq!(camera.distance, NEAREST);
        camera.zoom(1e9);
        assert_eq!(camera.distance, FARTHEST);
    }
}
