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
//! Bad arguments get -32001 `Exception raised` with the reason.

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
pub(crate) fn router(views: &Views, costs: &Costs) -> Router {
    let v = views.clone();
    let router = Router::new()
        .rpc("viewport.image.push.observer.add", {
            let views = v.clone();
            move |ctx: Context, id: Option<Value>| {
                let views = views.clone();
                async move {
                    let id = views
                        .observe(&view_id(id.as_ref())?, ctx.session())
                        .map_err(RpcError::exception)?;
                    Ok::<_, RpcError>(success_with(id))
                }
            }
        })
        .rpc("viewport.image.push.observer.remove", {
            let views = v.clone();
            move |ctx: Context, id: Option<Value>| {
                let views = views.clone();
                async move {
                    let id = views
                        .unobserve(&view_id(id.as_ref())?, ctx.client_id())
                        .map_err(RpcError::exception)?;
                    Ok::<_, RpcError>(success_with(id))
                }
            }
        })
        .rpc("viewport.image.push", {
            let views = v.clone();
            move |options: Option<Map>| {
                let views = views.clone();
                async move {
                    let options = options.unwrap_or_default();
                    let size = options
                        .get("size")
                        .and_then(Value::as_array)
                        .and_then(|s| Some((s.first()?.as_f64()?, s.get(1)?.as_f64()?)));
                    views
                        .request(&view_id(options.get("view"))?, size)
                        .map_err(RpcError::exception)?;
                    Ok::<_, RpcError>(success())
                }
            }
        });
    let router = with_view_settings(router, views);
    let router = with_interaction(router, views);
    let costs = costs.clone();
    let views = views.clone();
    router.rpc("remote_view.stats", move || {
        let (views, costs) = (views.clone(), costs.clone());
        async move { Ok::<_, RpcError>(stats(&views, &costs)) }
    })
}

/// Enabling, quality, size, cache, animation and the fps limit.
fn with_view_settings(router: Router, views: &Views) -> Router {
    let (a, b, c, d, e, f, g, h) = (
        views.clone(),
        views.clone(),
        views.clone(),
        views.clone(),
        views.clone(),
        views.clone(),
        views.clone(),
        views.clone(),
    );
    router
        .rpc(
            "viewport.image.push.enabled",
            move |id: Option<Value>, enabled: Option<bool>| {
                let views = a.clone();
                async move { reply(views.enable(&view_id(id.as_ref())?, enabled.unwrap_or(true))) }
            },
        )
        .rpc(
            "viewport.image.push.quality",
            move |id: Option<Value>, quality: Value, ratio: Option<f64>| {
                let views = b.clone();
                async move {
                    let quality = number(Some(&quality), "quality")?;
                    reply(views.set_quality(&view_id(id.as_ref())?, quality, ratio))
                }
            },
        )
        .rpc(
            "viewport.image.push.original.size",
            move |id: Option<Value>, w: Value, h: Value| {
                let views = c.clone();
                async move {
                    let (w, h) = (number(Some(&w), "width")?, number(Some(&h), "height")?);
                    reply(views.set_size(&view_id(id.as_ref())?, w, h))
                }
            },
        )
        .rpc(
            "viewport.image.push.invalidate.cache",
            move |id: Option<Value>| {
                let views = d.clone();
                async move { reply(views.request(&view_id(id.as_ref())?, None)) }
            },
        )
        .rpc("viewport.image.animation.fps.max", move |fps: Value| {
            let views = e.clone();
            async move { reply(views.set_fps(number(Some(&fps), "fps")?)) }
        })
        .rpc("viewport.image.animation.fps.get", move || {
            let views = f.clone();
            async move { Ok::<_, RpcError>(views.fps()) }
        })
        .rpc(
            "viewport.image.animation.start",
            move |id: Option<Value>| {
                let views = g.clone();
                async move { reply(views.animate(&view_id(id.as_ref())?, true)) }
            },
        )
        .rpc("viewport.image.animation.stop", move |id: Option<Value>| {
            let views = h.clone();
            async move { reply(views.animate(&view_id(id.as_ref())?, false)) }
        })
}

/// The camera reset, mouse drags and the wheel.
fn with_interaction(router: Router, views: &Views) -> Router {
    let (a, b, c) = (views.clone(), views.clone(), views.clone());
    router
        .rpc("viewport.camera.reset", move |id: Option<Value>| {
            let views = a.clone();
            async move { reply(views.reset_camera(&view_id(id.as_ref())?)) }
        })
        .rpc("viewport.mouse.interaction", move |event: Map| {
            let views = b.clone();
            async move {
                let mouse = Mouse {
                    action: event
                        .get("action")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    x: number(event.get("x"), "x")? as f32,
                    y: number(event.get("y"), "y")? as f32,
                    left: flag(&event, "buttonLeft"),
                    middle: flag(&event, "buttonMiddle"),
                    right: flag(&event, "buttonRight"),
                };
                reply(views.mouse(&view_id(event.get("view"))?, &mouse))
            }
        })
        .rpc("viewport.mouse.zoom.wheel", move |event: Map| {
            let views = c.clone();
            async move {
                let id = view_id(event.get("view"))?;
                // Start and end events carry no spin, or one the move events repeat.
                match event.get("type").and_then(Value::as_str) {
                    Some("MouseWheel") => {
                        let spin = number(event.get("spinY"), "spinY")? as f32;
                        reply(views.wheel(&id, spin.clamp(-10.0, 10.0)))
                    }
                    _ => Ok(success()),
                }
            }
        })
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
