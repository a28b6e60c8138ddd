//! The views: what each one shows, at what size and quality, and who observes it.
//!
//! [`Views`] is shared by the protocol's handlers (which change a view and mark it
//! dirty) and the streamer (which asks for the views due a frame). A view gets frames
//! only while it has observers and is enabled; then it is rendered when something
//! changed, or continuously while it animates, never faster than the fps limit.
//!
//! Observers are counted per client and view. A client that goes away without saying
//! `observer.remove` (a closed tab) is noticed when its session is dropped: observers
//! hold the session weakly, and [`Views::prune`] removes the dead ones.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use wslink::core::Session;
use wslink::ClientId;

use super::camera::Camera;
use super::Limits;

/// How fast an animated view turns, radians per second.
const SPIN_SPEED: f32 = 0.9;

/// What went wrong with a request about views; sent to the caller as the error text.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum ViewError {
    #[error("no view {0:?} (views are \"1\"..\"{1}\", or \"-1\" for the first)")]
    Unknown(String, usize),
    #[error("size {0}x{1} is out of range (1..={2} on each side)")]
    Size(f64, f64, u16),
    #[error("quality {0} is out of range (0..=100)")]
    Quality(f64),
    #[error("ratio {0} is out of range (0 < ratio <= 1)")]
    Ratio(f64),
    #[error("fps {0} is out of range (0 < fps <= {1})")]
    Fps(f64, f64),
    #[error("this client does not observe view {0}")]
    NotObserving(String),
    #[error("too many observers on view {0} (at most {1})")]
    TooManyObservers(String, usize),
}

/// One observation: a client watching a view.
#[derive(Debug)]
struct Observer {
    client: ClientId,
    session: Weak<Session>,
}

/// The state of one view.
#[derive(Debug)]
struct View {
    id: String,
    camera: Camera,
    spin: f32,
    size: (u16, u16),
    quality: u8,
    ratio: f32,
    enabled: bool,
    animating: bool,
    dirty: bool,
    drag: Option<(f32, f32)>,
    observers: Vec<Observer>,
    last_frame: Option<Instant>,
    spun_at: Instant,
    frames: u64,
}

/// What the streamer renders for one frame of a view.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Job {
    pub(crate) index: usize,
    pub(crate) id: String,
    pub(crate) camera: Camera,
    pub(crate) spin: f32,
    /// The size rendered: the view's size times its ratio.
    pub(crate) size: (u16, u16),
    pub(crate) quality: u8,
}

/// Numbers about one view, for `remote_view.stats`.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ViewStats {
    pub(crate) id: String,
    pub(crate) observers: usize,
    pub(crate) frames: u64,
    pub(crate) size: [u16; 2],
    pub(crate) quality: u8,
    pub(crate) animating: bool,
}

#[derive(Debug)]
struct State {
    views: Vec<View>,
    fps_max: f64,
}

/// Every view, shared by the handlers and the streamer. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Views {
    state: Arc<Mutex<State>>,
    wake: Arc<tokio::sync::Notify>,
    limits: Limits,
}

impl Views {
    /// `limits.views` views, "1" to "N", each at the default size.
    pub(crate) fn new(limits: Limits) -> Views {
        let now = Instant::now();
        let views = (1..=limits.views.max(1))
            .map(|i| View {
                id: i.to_string(),
                camera: Camera::default(),
                spin: 0.0,
                size: (400, 400),
                quality: 100,
                ratio: 1.0,
                enabled: true,
                animating: false,
                dirty: true,
                drag: None,
                observers: Vec::new(),
                last_frame: None,
                spun_at: now,
                frames: 0,
            })
            .collect();
        let state = State {
            views,
            fps_max: limits.default_fps.clamp(1.0, limits.max_fps),
        };
        Views {
            state: Arc::new(Mutex::new(state)),
            wake: Arc::default(),
            limits,
        }
    }

    /// Wakes the streamer (something changed).
    pub(crate) fn woken(&self) -> &tokio::sync::Notify {
        &self.wake
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `change` on view `id` ("-1" is the first) and wakes the streamer.
    fn with_view<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut View) -> Result<T, ViewError>,
    ) -> Result<T, ViewError> {
        let mut state = self.lock();
        let count = state.views.len();
        let index = resolve(id, count).ok_or_else(|| ViewError::Unknown(id.into(), count))?;
        let out = change(&mut state.views[index])?;
        drop(state);
        self.wake.notify_one();
        Ok(out)
    }

    /// Adds an observer of view `id` for `session`'s client; returns the view's real id.
    pub(crate) fn observe(&self, id: &str, session: &Arc<Session>) -> Result<String, ViewError> {
        let max = self.limits.max_observers;
        self.with_view(id, |view| {
            if view.observers.len() >= max {
                return Err(ViewError::TooManyObservers(view.id.clone(), max));
            }
            view.observers.push(Observer {
                client: session.client_id().clone(),
                session: Arc::downgrade(session),
            });
            view.dirty = true;
            tracing::info!(view = %view.id, client = %session.client_id(), observers = view.observers.len(), "observer added");
            Ok(view.id.clone())
        })
    }

    /// Removes one observer of view `id` for `client`; returns the view's real id.
    pub(crate) fn unobserve(&self, id: &str, client: &ClientId) -> Result<String, ViewError> {
        self.with_view(id, |view| {
            let at = view
                .observers
                .iter()
                .position(|o| &o.client == client)
                .ok_or_else(|| ViewError::NotObserving(view.id.clone()))?;
            view.observers.remove(at);
            tracing::info!(view = %view.id, %client, observers = view.observers.len(), "observer removed");
            Ok(view.id.clone())
        })
    }

    /// Drops the observers whose connection is gone; returns how many.
    pub(crate) fn prune(&self) -> usize {
        let mut state = self.lock();
        let mut pruned = 0;
        for view in &mut state.views {
            let before = view.observers.len();
            view.observers.retain(|o| o.session.strong_count() > 0);
            let gone = before - view.observers.len();
            if gone > 0 {
                tracing::info!(view = %view.id, gone, observers = view.observers.len(), "observers of closed connections removed");
            }
            pruned += gone;
        }
        pruned
    }

    /// Sets the size a view is shown at (its "original" size, before the ratio).
    pub(crate) fn set_size(&self, id: &str, width: f64, height: f64) -> Result<(), ViewError> {
        let max = self.limits.max_side;
        let size = checked_size(width, height, max)?;
        self.with_view(id, |view| {
            if view.size != size {
                view.size = size;
                view.dirty = true;
            }
            Ok(())
        })
    }

    /// Sets the JPEG quality and the fraction of the size that is rendered.
    pub(crate) fn set_quality(
        &self,
        id: &str,
        quality: f64,
        ratio: Option<f64>,
    ) -> Result<(), ViewError> {
        if !(0.0..=100.0).contains(&quality) {
            return Err(ViewError::Quality(quality));
        }
        let ratio = ratio.unwrap_or(1.0);
        if !(ratio > 0.0 && ratio <= 1.0) {
            return Err(ViewError::Ratio(ratio));
        }
        self.with_view(id, |view| {
            view.quality = quality.round().max(1.0) as u8;
            view.ratio = ratio as f32;
            view.dirty = true;
            Ok(())
        })
    }

    /// Asks for a frame of view `id` (at `size` when given and positive).
    pub(crate) fn request(&self, id: &str, size: Option<(f64, f64)>) -> Result<(), ViewError> {
        let size = match size {
            Some((w, h)) if w > 0.0 && h > 0.0 => Some(checked_size(w, h, self.limits.max_side)?),
            _ => None,
        };
        self.with_view(id, |view| {
            if let Some(size) = size {
                view.size = size;
            }
            view.dirty = true;
            Ok(())
        })
    }

    /// Turns frames of a view on or off.
    pub(crate) fn enable(&self, id: &str, enabled: bool) -> Result<(), ViewError> {
        self.with_view(id, |view| {
            view.enabled = enabled;
            view.dirty = true;
            Ok(())
        })
    }

    /// Starts or stops a view's animation (its object turns on its own).
    pub(crate) fn animate(&self, id: &str, on: bool) -> Result<(), ViewError> {
        self.with_view(id, |view| {
            view.animating = on;
            view.spun_at = Instant::now();
            view.dirty = true;
            Ok(())
        })
    }

    /// Puts a view's camera back where it started.
    pub(crate) fn reset_camera(&self, id: &str) -> Result<(), ViewError> {
        self.with_view(id, |view| {
            view.camera = Camera::default();
            view.dirty = true;
            Ok(())
        })
    }

    /// A mouse event: with a button down, `(x, y)` (fractions of the view, y up) turns
    /// (left) or zooms (right) from the previous position; `up` ends the drag.
    pub(crate) fn mouse(&self, id: &str, event: &Mouse) -> Result<(), ViewError> {
        self.with_view(id, |view| {
            let pressed = event.left || event.right || event.middle;
            if !pressed || event.action == "up" {
                view.drag = None;
                return Ok(());
            }
            if let Some((x0, y0)) = view.drag {
                let (dx, dy) = (event.x - x0, event.y - y0);
                if event.right {
                    view.camera.zoom((1.0 + dy * 2.0).clamp(0.2, 5.0));
                } else {
                    // y grows upwards in the event: dragging up looks from below.
                    view.camera.rotate(dx, -dy);
                }
                view.dirty = true;
            }
            view.drag = Some((event.x, event.y));
            Ok(())
        })
    }

    /// Wheel zoom: `spin_y` > 0 moves away, < 0 nearer.
    pub(crate) fn wheel(&self, id: &str, spin_y: f32) -> Result<(), ViewError> {
        self.with_view(id, |view| {
            view.camera.zoom((1.0 + 0.1 * spin_y).clamp(0.5, 2.0));
            view.dirty = true;
            Ok(())
        })
    }

    /// Sets the global frame-rate limit.
    pub(crate) fn set_fps(&self, fps: f64) -> Result<(), ViewError> {
        if !(fps > 0.0 && fps <= self.limits.max_fps) {
            return Err(ViewError::Fps(fps, self.limits.max_fps));
        }
        self.lock().fps_max = fps;
        self.wake.notify_one();
        Ok(())
    }

    /// The global frame-rate limit.
    pub(crate) fn fps(&self) -> f64 {
        self.lock().fps_max
    }

    /// The views due a frame now, marked as being rendered; otherwise how long until the
    /// next one may be due (`None`: nothing to do until something changes).
    pub(crate) fn take_due(&self, now: Instant) -> (Vec<Job>, Option<Duration>) {
        let mut state = self.lock();
        let period = Duration::from_secs_f64(1.0 / state.fps_max);
        let mut jobs = Vec::new();
        let mut wait: Option<Duration> = None;
        for (index, view) in state.views.iter_mut().enumerate() {
            if view.observers.is_empty() || !view.enabled || !(view.dirty || view.animating) {
                continue;
            }
            let since = view
                .last_frame
                .map_or(period, |t| now.saturating_duration_since(t));
            if since < period {
                let left = period - since;
                wait = Some(wait.map_or(left, |w| w.min(left)));
                continue;
            }
            if view.animating {
                view.spin += SPIN_SPEED * now.saturating_duration_since(view.spun_at).as_secs_f32();
                view.spun_at = now;
            }
            view.dirty = false;
            view.last_frame = Some(now);
            let scale = |side: u16| ((f32::from(side) * view.ratio).round() as u16).max(1);
            jobs.push(Job {
                index,
                id: view.id.clone(),
                camera: view.camera,
                spin: view.spin,
                size: (scale(view.size.0), scale(view.size.1)),
                quality: view.quality,
            });
        }
        (jobs, wait)
    }

    /// Records that a frame of `job` was published; `true` if the view changed again
    /// since it was taken (the frame is already stale).
    pub(crate) fn finish(&self, job: &Job) -> bool {
        let mut state = self.lock();
        match state.views.get_mut(job.index) {
            Some(view) => {
                view.frames += 1;
                view.dirty
            }
            None => false,
        }
    }

    /// Numbers about every view.
    pub(crate) fn stats(&self) -> Vec<ViewStats> {
        self.lock()
            .views
            .iter()
            .map(|v| ViewStats {
                id: v.id.clone(),
                observers: v.observers.len(),
                frames: v.frames,
                size: [v.size.0, v.size.1],
                quality: v.quality,
                animating: v.animating,
            })
            .collect()
    }
}

/// A mouse event as vtk.js's remote interactor style sends it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Mouse {
    pub(crate) action: String,
    pub(crate) x: f32,
    pub(crate) y: f32,
    pub(crate) left: bool,
    pub(crate) middle: bool,
    pub(crate) right: bool,
}

/// The index of view `id`: "1".."N", or "-1" (or "") for the first.
fn resolve(id: &str, count: usize) -> Option<usize> {
    match id {
        "-1" | "" => Some(0),
        _ => id
            .parse::<usize>()
            .ok()
            .filter(|i| (1..=count).contains(i))
            .map(|i| i - 1),
    }
}

/// A size in whole pixels, each side in `1..=max`.
fn checked_size(width: f64, height: f64, max: u16) -> Result<(u16, u16), ViewError> {
    let ok = |v: f64| v.is_finite() && v.round() >= 1.0 && v.round() <= f64::from(max);
    if ok(width) && ok(height) {
        Ok((width.round() as u16, height.round() as u16))
    } else {
        Err(ViewError::Size(width, height, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn views() -> Views {
        Views::new(Limits::default())
    }

    fn session() -> Arc<Session> {
        Arc::new(Session::new(
            ClientId::random(),
            wslink::Generation::V2,
            1 << 20,
            Default::default(),
        ))
    }

    #[test]
    fn a_view_gets_frames_only_while_observed() {
        let views = views();
        let now = Instant::now();
        assert!(views.take_due(now).0.is_empty(), "no observer, no frame");
        let session = session();
        assert_eq!(views.observe("-1", &session).unwrap(), "1");
        let (jobs, _) = views.take_due(now);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].id, "1");
        assert!(
            views.take_due(now + Duration::from_secs(1)).0.is_empty(),
            "nothing changed"
        );
        views.unobserve("1", session.client_id()).unwrap();
        views.request("1", None).unwrap();
        assert!(views.take_due(now + Duration::from_secs(2)).0.is_empty());
    }

    #[test]
    fn a_dropped_session_takes_its_observers_with_it() {
        let views = views();
        let session = session();
        views.observe("2", &session).unwrap();
        views.observe("2", &session).unwrap();
        assert_eq!(views.prune(), 0);
        drop(session);
        assert_eq!(views.prune(), 2);
        assert_eq!(views.stats()[1].observers, 0);
    }

    #[test]
    fn the_fps_limit_spaces_animated_frames() {
        let views = views();
        let session = session();
        views.observe("1", &session).unwrap();
        views.set_fps(10.0).unwrap();
        views.animate("1", true).unwrap();
        let now = Instant::now();
        assert_eq!(views.take_due(now).0.len(), 1);
        let (jobs, wait) = views.take_due(now + Duration::from_millis(30));
        assert!(jobs.is_empty());
        assert_eq!(wait, Some(Duration::from_millis(70)));
        assert_eq!(views.take_due(now + Duration::from_millis(100)).0.len(), 1);
    }

    #[test]
    fn quality_ratio_and_size_shape_the_job() {
        let views = views();
        let session = session();
        views.observe("1", &session).unwrap();
        views.set_size("1", 640.0, 480.4).unwrap();
        views.set_quality("1", 55.0, Some(0.5)).unwrap();
        let (jobs, _) = views.take_due(Instant::now());
        assert_eq!((jobs[0].size, jobs[0].quality), ((320, 240), 55));
    }

    #[test]
    fn bad_requests_are_refused_with_the_reason() {
        let views = views();
        let client = ClientId::random();
        assert!(matches!(
            views.request("9", None),
            Err(ViewError::Unknown(..))
        ));
        assert!(matches!(
            views.set_size("1", 0.0, 10.0),
            Err(ViewError::Size(..))
        ));
        assert!(matches!(
            views.set_size("1", 1e9, 10.0),
            Err(ViewError::Size(..))
        ));
        assert!(matches!(
            views.set_quality("1", 101.0, None),
            Err(ViewError::Quality(_))
        ));
        assert!(matches!(
            views.set_quality("1", 50.0, Some(0.0)),
            Err(ViewError::Ratio(_))
        ));
        assert!(matches!(views.set_fps(f64::NAN), Err(ViewError::Fps(..))));
        assert!(matches!(
            views.unobserve("1", &client),
            Err(ViewError::NotObserving(_))
        ));
    }

    #[test]
    fn a_left_drag_turns_the_camera() {
        let views = views();
        let down = |x| Mouse {
            action: "down".into(),
            x,
            y: 0.5,
            left: true,
            ..Mouse::default()
        };
        views.mouse("1", &down(0.5)).unwrap();
        views.mouse("1", &down(0.6)).unwrap();
        views
            .mouse(
                "1",
                &Mouse {
                    action: "up".into(),
                    ..Mouse::default()
                },
            )
            .unwrap();
        let session = session();
        views.observe("1", &session).unwrap();
        let (jobs, _) = views.take_due(Instant::now());
        assert_ne!(jobs[0].camera, Camera::default());
    }
}
