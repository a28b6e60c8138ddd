//! The protocol as the macro reads it: exported methods, their parameters, the topics.

use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, FnArg, GenericArgument, Ident, ImplItem, ImplItemConst, ImplItemFn, ItemImpl,
    LitStr, Pat, PathArguments, ReturnType, Type,
};

/// The extractor types a typed client leaves out (they are not sent by the caller).
const EXTRACTORS: &[&str] = &["Context", "State", "Extension", "Auth"];

/// One `#[wslink::protocol]` impl block, read.
pub(crate) struct ProtocolModel {
    pub(crate) methods: Vec<Method>,
    pub(crate) topics: Vec<TopicDecl>,
}

/// One exported method.
pub(crate) struct Method {
    pub(crate) uri: LitStr,
    pub(crate) ident: Ident,
    pub(crate) params: Vec<Param>,
    pub(crate) returns: Returns,
    pub(crate) docs: Vec<Attribute>,
}

/// What a method returns.
pub(crate) enum Returns {
    /// Nothing: `()`.
    Unit,
    /// `Result<R, E>`: the value is `R`.
    Result(Type),
    /// A plain value.
    Plain(Type),
}

/// One parameter after the receiver.
pub(crate) struct Param {
    pub(crate) ty: Type,
    pub(crate) kind: ParamKind,
}

/// How a parameter is filled.
pub(crate) enum ParamKind {
    /// By position or by name.
    Wire {
        name: String,
        optional: bool,
        default: Option<Box<Expr>>,
    },
    /// `Kwargs<T>`: what the named parameters left of the keyword arguments.
    RestKwargs,
    /// `Args`: what the positional parameters left.
    RestArgs,
    /// Context, state, identity…: nothing the caller sends.
    Extractor,
}

impl ParamKind {
    /// `true` for the parameters filled after all others (`Kwargs`, `Args`).
    pub(crate) fn is_rest(&self) -> bool {
        matches!(self, ParamKind::RestKwargs | ParamKind::RestArgs)
    }
}

/// A `#[topic] const NAME: Topic<T> = …;`.
pub(crate) struct TopicDecl {
    pub(crate) ident: Ident,
    pub(crate) payload: Type,
    pub(crate) docs: Vec<Attribute>,
}

impl ProtocolModel {
    /// Reads the impl block, removing the macro's own attributes from it.
    pub(crate) fn read(item: &mut ItemImpl) -> syn::Result<ProtocolModel> {
        if !item.generics.params.is_empty() {
            return Err(syn::Error::new(
                item.generics.span(),
                "a protocol cannot be generic: export the methods of a concrete type",
            ));
        }
        let mut methods: Vec<Method> = Vec::new();
        let mut topics = Vec::new();
        let mut errors: Option<syn::Error> = None;
        let mut push = |e: syn::Error| match &mut errors {
            Some(all) => all.combine(e),
            None => errors = Some(e),
        };
        for impl_item in &mut item.items {
            match impl_item {
                ImplItem::Fn(f) => match take_rpc_attr(&mut f.attrs) {
                    Ok(Some(uri)) => match read_method(f, uri) {
                        Ok(method) => {
                            if let Some(first) =
                                methods.iter().find(|m| m.uri.value() == method.uri.value())
                            {
                                push(syn::Error::new(
                                    method.uri.span(),
                                    format!(
                                        "`{}` is already exported by `fn {}`",
                                        method.uri.value(),
                                        first.ident
                                    ),
                                ));
                            }
                            methods.push(method);
                        }
                        Err(e) => push(e),
                    },
                    Ok(None) => {}
                    Err(e) => push(e),
                },
                ImplItem::Const(c) => match read_topic(c) {
                    Ok(Some(topic)) => topics.push(topic),
                    Ok(None) => {}
                    Err(e) => push(e),
                },
                _ => {}
            }
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(ProtocolModel { methods, topics }),
        }
    }
}

/// The URI of `#[rpc("uri")]`, removing the attribute.
fn take_rpc_attr(attrs: &mut Vec<Attribute>) -> syn::Result<Option<LitStr>> {
    let Some(index) = attrs.iter().position(|a| a.path().is_ident("rpc")) else {
        return Ok(None);
    };
    let attr = attrs.remove(index);
    let uri: LitStr = attr
        .parse_args()
        .map_err(|e| syn::Error::new(e.span(), "write the method's URI: #[rpc(\"my.method\")]"))?;
    if !wslink_core::id::is_valid_topic(&uri.value()) {
        return Err(syn::Error::new(
            uri.span(),
            format!(
                "`{}` is not a method URI the JS client can call: use dotted words of ASCII letters, digits and `_` (like `viewport.image.push`)",
                uri.value()
            ),
        ));
    }
    Ok(Some(uri))
}

fn docs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}

fn read_method(f: &mut ImplItemFn, uri: LitStr) -> syn::Result<Method> {
    let sig = &mut f.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("exported method `{}` must be an `async fn`", sig.ident),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "an exported method cannot be generic: the wire decides its argument types",
        ));
    }
    let mut inputs = sig.inputs.iter_mut();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        other => {
            let span = other.map_or(sig.ident.span(), |a| a.span());
            return Err(syn::Error::new(
                span,
                "an exported method takes `&self` first: the protocol's shared state",
            ));
        }
    }
    let params = inputs
        .map(|arg| match arg {
            FnArg::Typed(pat_type) => read_param(pat_type),
            FnArg::Receiver(r) => Err(syn::Error::new(r.span(), "unexpected receiver")),
        })
        .collect::<syn::Result<Vec<_>>>()?;
    let returns = match &sig.output {
        ReturnType::Default => Returns::Unit,
        ReturnType::Type(_, ty) => match result_ok_type(ty) {
            Some(ok) => Returns::Result(ok),
            None => Returns::Plain((**ty).clone()),
        },
    };
    Ok(Method {
        uri,
        ident: sig.ident.clone(),
        params,
        returns,
        docs: docs(&f.attrs),
    })
}

fn read_param(pat_type: &mut syn::PatType) -> syn::Result<Param> {
    let mut default = None;
    let mut extract = false;
    let mut kept = Vec::new();
    let declared = &pat_type.ty;
    for attr in pat_type.attrs.drain(..) {
        if attr.path().is_ident("default") {
            default = Some(match &attr.meta {
                syn::Meta::Path(_) => {
                    syn::parse_quote!(<#declared as ::core::default::Default>::default())
                }
                _ => attr.parse_args::<Expr>()?,
            });
        } else if attr.path().is_ident("extract") {
            extract = true;
        } else {
            kept.push(attr);
        }
    }
    pat_type.attrs = kept;
    let ty = (*pat_type.ty).clone();
    check_param_type(&ty)?;
    let last = last_segment(&ty);
    let kind = if extract || last.as_deref().is_some_and(|s| EXTRACTORS.contains(&s)) {
        ParamKind::Extractor
    } else if last.as_deref() == Some("Kwargs") {
        ParamKind::RestKwargs
    } else if last.as_deref() == Some("Args") {
        ParamKind::RestArgs
    } else {
        let Pat::Ident(pat) = &*pat_type.pat else {
            return Err(syn::Error::new(
                pat_type.pat.span(),
                "name this parameter with a plain identifier: its name is its keyword on the wire",
            ));
        };
        ParamKind::Wire {
            name: pat.ident.unraw().to_string(),
            optional: last.as_deref() == Some("Option"),
            default: default.map(Box::new),
        }
    };
    Ok(Param { ty, kind })
}

fn check_param_type(ty: &Type) -> syn::Result<()> {
    match ty {
        Type::Reference(r) => Err(syn::Error::new_spanned(
            r,
            "parameters of an exported method are taken by value: use an owned type (`String` for `&str`, `Vec<T>` for `&[T]`)",
        )),
        Type::ImplTrait(t) => Err(syn::Error::new_spanned(
            t,
            "`impl Trait` cannot be a parameter of an exported method: name a concrete type",
        )),
        _ => Ok(()),
    }
}

/// The last path segment's name of a type (`Option` for `std::option::Option<T>`).
fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The generic arguments of the last path segment.
fn generic_args(ty: &Type) -> Vec<Type> {
    let Type::Path(p) = ty else { return Vec::new() };
    let Some(segment) = p.path.segments.last() else {
        return Vec::new();
    };
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return Vec::new();
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The first generic argument of a type (`T` of `Kwargs<T>`).
pub(crate) fn first_generic(ty: &Type) -> Option<Type> {
    generic_args(ty).into_iter().next()
}

/// `R` of a `Result<R, E>` (or of a `Result<R>` alias).
fn result_ok_type(ty: &Type) -> Option<Type> {
    (last_segment(ty).as_deref() == Some("Result"))
        .then(|| generic_args(ty).into_iter().next())
        .flatten()
}

/// A `#[topic]` constant, removing the attribute.
fn read_topic(c: &mut ImplItemConst) -> syn::Result<Option<TopicDecl>> {
    let Some(index) = c.attrs.iter().position(|a| a.path().is_ident("topic")) else {
        return Ok(None);
    };
    c.attrs.remove(index);
    if last_segment(&c.ty).as_deref() != Some("Topic") {
        return Err(syn::Error::new(
            c.ty.span(),
            "a #[topic] constant has the type `Topic<T>`, T being what is published",
        ));
    }
    let Some(payload) = generic_args(&c.ty).into_iter().next() else {
        return Err(syn::Error::new(
            c.ty.span(),
            "write the publications' type: `Topic<T>`",
        ));
    };
    if let Some(name) = topic_literal(&c.expr) {
        if !wslink_core::id::is_valid_topic(&name.value()) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "`{}` is not a topic the JS client can receive: use dotted words of ASCII letters, digits and `_`",
                    name.value()
                ),
            ));
        }
    }
    Ok(Some(TopicDecl {
        ident: c.ident.clone(),
        payload,
        docs: docs(&c.attrs),
    }))
}

/// The string literal of `Topic::new("…")`, if the constant is written that way.
fn topic_literal(expr: &Expr) -> Option<LitStr> {
    let Expr::Call(call) = expr else { return None };
    match call.args.first() {
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) if call.args.len() == 1 => Some(s.clone()),
        _ => None,
    }
}
