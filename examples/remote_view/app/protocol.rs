//! The image-delivery protocol, as vtk.js's `RemoteView` and `ImageStream` call it.
//!
//! The names and arguments are those of vtk.js's `IO/Core/ImageStream/DefaultProtocol`
//! and `Interaction/Style/InteractorStyleRemoteMouse` (and ParaView Web's protocols,
//! which they were written for). A view id is a string ("1", "2"…) or a number; `-1`
//! means the first view. Every method answers quickly: rendering happens in the
//! streamer, which publishes the frames on [`TOPIC`].
//!
//! | method | arguments | answer |
//! |---|---|---|
//! | `viewport.image.push.observer.add` | `[viewId]` | `{success: true, viewId}` |
//! | `viewport.image.push.observer.remove` | `[viewId]` | `{success: true, viewId}` |
//! | `viewport.image.push` | `[{view, size: [w, h]}]` | `{success: true}`; a frame follows |
//! | `viewport.image.push.enabled` | `[viewId, enabled]` | `{success: true}` |
//! | `viewport.image.push.quality` | `[viewId, quality, ratio]` | `{success: true}` |
//! | `viewport.image.push.original.size` | `[viewId, w, h]` | `{success: true}` |
//! | `viewport.image.push.invalidate.cache` | `[viewId]` | `{success: true}` |
//! | `viewport.image.animation.fps.max` | `[fps]` | `{success: true}` |
//! | `viewport.image.animation.fps.get` | `[]` | the limit |
//! | `viewport.image.animation.start` / `.stop` | `[viewId]` | `{success: true}` |
//! | `viewport.camera.reset` | `[viewId]` | `{success: true}` |
//! | `viewport.mouse.interaction` | `[{action, x, y, buttonLeft, buttonMiddle, buttonRight, view}]` | `{success: true}` |
//! | `viewport.mouse.zoom.wheel` | `[{type, spinY, view}]` | `{success: true}` |
//! | `remote_view.stats` | `[]` | per view: observers, frames, size, quality; what frames cost (render and encode CPU time), the process's CPU time |
//!
//! Bad arguments get -32001 `Exception raised` with the reason. Not here:
//! `viewport.camera.update` and `viewport.camera.update.params`, which vtk.js calls only
//! for a view stream given a local camera (`ViewStream.setCamera`; `RemoteView` gives
//! none), and touch gestures (`RemoteView` sends them only to a method the page names
//! with `rpcGestureEvent`; this page names none).
//!
//! Frames go to every connection, as ParaView Web publishes them; each page keeps the
//! frames of its own view (by `id`).

use std::future::ready;

use wslink::server::{Context, Router};
use wslink::{Map, RpcError, Value};

use super::stream::Costs;
use super::views::{Mouse, Views};

/// The topic frames are published on.
pub(crate) const TOPIC: &str = "viewport.image.push.subscription";

/// `{success: true}`, the answer of most methods.
fn success() -> Value {
    let mut map = Map::new();
    map.insert("success".into(), Value::Bool(true));
    Value::Map(map)
}

/// `{success: true, viewId}`.
fn success_with(view_id: String) -> Value {
    let mut map = Map::new();
    map.insert("success".into(), Value::Bool(true));
    map.insert("viewId".into(), Value::Str(view_id));
    Value::Map(map)
}

/// A view id argument: a string, an integer, or nothing (the first view).
fn view_id(value: Option<&Value>) -> Result<String, RpcError> {
    match value {
        None | Some(Value::Nil) => Ok("-1".into()),
        Some(Value::Str(s)) => Ok(s.clone()),
        Some(v) => match v.as_i64() {
            Some(i) => Ok(i.to_string()),
            None => Err(RpcError::exception(format!(
                "a view id is a string or an integer, not {v}"
            ))),
        },
    }
}

/// A number argument.
fn number(value: Option<&Value>, what: &str) -> Result<f64, RpcError> {
    value
        .and_then(Value::as_f64)
        .ok_or_else(|| RpcError::exception(format!("{what} must be a number")))
}

/// A 0/1 (or boolean) flag of an event; missing is off.
fn flag(event: &Map, key: &str) -> bool {
    match event.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(v) => v.as_f64().is_some_and(|n| n != 0.0),
        None => false,
    }
}

/// Every method of the protocol, over `views`; `costs` feeds `remote_view.stats`.
///
/// The handlers only change the views' state, at once: each computes its answer and
/// returns it as a ready future.
pub(crate) fn router(views: &Views, costs: &Costs) -> Router {
    let router = with_observers(Router::new(), views);
    let router = with_view_settings(router, views);
    let router = with_interaction(router, views);
    let (v, costs) = (views.clone(), costs.clone());
    router.rpc("remote_view.stats", move || {
        ready(Ok::<_, RpcError>(stats(&v, &costs)))
    })
}

/// Observers, and asking for a frame.
fn with_observers(router: Router, views: &Views) -> Router {
    router
        .rpc("viewport.image.push.observer.add", {
            let v = views.clone();
            move |ctx: Context, id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| {
                    let id = v.observe(&id, ctx.session()).map_err(RpcError::exception)?;
                    Ok(success_with(id))
                }))
            }
        })
        .rpc("viewport.image.push.observer.remove", {
            let v = views.clone();
            move |ctx: Context, id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| {
                    let id = v
                        .unobserve(&id, ctx.client_id())
                        .map_err(RpcError::exception)?;
                    Ok(success_with(id))
                }))
            }
        })
        .rpc("viewport.image.push", {
            let v = views.clone();
            move |options: Option<Map>| {
                let options = options.unwrap_or_default();
                let size = options
                    .get("size")
                    .and_then(Value::as_array)
                    .and_then(|s| Some((s.first()?.as_f64()?, s.get(1)?.as_f64()?)));
                ready(view_id(options.get("view")).and_then(|id| reply(v.request(&id, size))))
            }
        })
}

/// Enabling, quality, size, cache, animation and the fps limit.
fn with_view_settings(router: Router, views: &Views) -> Router {
    router
        .rpc("viewport.image.push.enabled", {
            let v = views.clone();
            move |id: Option<Value>, enabled: Option<bool>| {
                let on = enabled.unwrap_or(true);
                ready(view_id(id.as_ref()).and_then(|id| reply(v.enable(&id, on))))
            }
        })
        .rpc("viewport.image.push.quality", {
            let v = views.clone();
            move |id: Option<Value>, quality: Value, ratio: Option<f64>| {
                ready((|| {
                    let quality = number(Some(&quality), "quality")?;
                    reply(v.set_quality(&view_id(id.as_ref())?, quality, ratio))
                })())
            }
        })
        .rpc("viewport.image.push.original.size", {
            let v = views.clone();
            move |id: Option<Value>, w: Value, h: Value| {
                ready((|| {
                    let (w, h) = (number(Some(&w), "width")?, number(Some(&h), "height")?);
                    reply(v.set_size(&view_id(id.as_ref())?, w, h))
                })())
            }
        })
        .rpc("viewport.image.push.invalidate.cache", {
            let v = views.clone();
            move |id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| reply(v.request(&id, None))))
            }
        })
        .rpc("viewport.image.animation.fps.max", {
            let v = views.clone();
            move |fps: Value| ready(number(Some(&fps), "fps").and_then(|fps| reply(v.set_fps(fps))))
        })
        .rpc("viewport.image.animation.fps.get", {
            let v = views.clone();
            move || ready(Ok::<_, RpcError>(v.fps()))
        })
        .rpc("viewport.image.animation.start", {
            let v = views.clone();
            move |id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| reply(v.animate(&id, true))))
            }
        })
        .rpc("viewport.image.animation.stop", {
            let v = views.clone();
            move |id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| reply(v.animate(&id, false))))
            }
        })
}

/// The camera reset, mouse drags and the wheel.
fn with_interaction(router: Router, views: &Views) -> Router {
    router
        .rpc("viewport.camera.reset", {
            let v = views.clone();
            move |id: Option<Value>| {
                ready(view_id(id.as_ref()).and_then(|id| reply(v.reset_camera(&id))))
            }
        })
        .rpc("viewport.mouse.interaction", {
            let v = views.clone();
            move |event: Map| ready(mouse(&v, &event))
        })
        .rpc("viewport.mouse.zoom.wheel", {
            let v = views.clone();
            move |event: Map| ready(wheel(&v, &event))
        })
}

/// `viewport.mouse.interaction`: a press, a move with a button down, or a release.
fn mouse(views: &Views, event: &Map) -> Result<Value, RpcError> {
    let mouse = Mouse {
        action: event
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        x: number(event.get("x"), "x")? as f32,
        y: number(event.get("y"), "y")? as f32,
        left: flag(event, "buttonLeft"),
        middle: flag(event, "buttonMiddle"),
        right: flag(event, "buttonRight"),
    };
    reply(views.mouse(&view_id(event.get("view"))?, &mouse))
}

/// `viewport.mouse.zoom.wheel`: each `MouseWheel` event zooms by its `spinY` (positive:
/// away). vtk.js sends every notch's spin as a `MouseWheel`, the first one also as
/// `StartMouseWheel` (not counted twice here); `EndMouseWheel` carries none.
fn wheel(views: &Views, event: &Map) -> Result<Value, RpcError> {
    let id = view_id(event.get("view"))?;
    match event.get("type").and_then(Value::as_str) {
        Some("MouseWheel") => {
            let spin = number(event.get("spinY"), "spinY")? as f32;
            reply(views.wheel(&id, spin.clamp(-10.0, 10.0)))
        }
        _ => Ok(success()),
    }
}

/// The answer of a view change: `{success: true}` or the reason it was refused.
fn reply(result: Result<(), super::views::ViewError>) -> Result<Value, RpcError> {
    result.map(|()| success()).map_err(RpcError::exception)
}

/// `remote_view.stats`: the views and what frames cost so far.
fn stats(views: &Views, costs: &Costs) -> Value {
    let mut map = Map::new();
    map.insert("fpsMax".into(), Value::Float(views.fps()));
    let list = views
        .stats()
        .into_iter()
        .map(|s| wslink::core::into_value(s).unwrap_or_default())
        .collect();
    map.insert("views".into(), Value::Array(list));
    map.insert("costs".into(), costs.snapshot().into_value());
    // The whole process's CPU time, for a per-frame figure over a stretch of frames.
    let process =
        super::cpu::process_time().map_or(Value::Nil, |t| Value::Int(t.as_millis() as i64));
    map.insert("processCpuMs".into(), process);
    Value::Map(map)
}
