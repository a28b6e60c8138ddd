//! The server half: `impl Protocol for T`, one router entry per exported method.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Path, Type};

use crate::model::{Method, ParamKind, ProtocolModel, Returns};

/// `impl Protocol for #self_ty`.
pub(crate) fn protocol_impl(krate: &Path, self_ty: &Type, model: &ProtocolModel) -> TokenStream {
    let p = quote!(#krate::server::__private);
    let name = quote!(#self_ty).to_string().replace(' ', "");
    let uris = model.methods.iter().map(|m| &m.uri);
    let routes = model.methods.iter().map(|m| route(&p, m));
    quote! {
        impl #p::Protocol for #self_ty {
            const NAME: &'static str = #name;

            fn uris() -> &'static [&'static str] {
                &[#(#uris),*]
            }

            fn into_router(self: #p::Arc<Self>) -> #p::Router {
                let router = #p::Router::new();
                #(let router = #routes;)*
                router
            }
        }
    }
}

/// `router.call_fn(uri, …)` for one method: fill each parameter (the ones that take
/// what is left, last), check nothing is left over, call, convert the reply.
fn route(p: &TokenStream, method: &Method) -> TokenStream {
    let uri = &method.uri;
    let ident = &method.ident;
    let function = ident.to_string();
    let bindings: Vec<_> = (0..method.params.len())
        .map(|i| format_ident!("__param{}", i))
        .collect();
    let order = method
        .params
        .iter()
        .enumerate()
        .filter(|(_, param)| !param.kind.is_rest())
        .chain(
            method
                .params
                .iter()
                .enumerate()
                .filter(|(_, p)| p.kind.is_rest()),
        );
    let fills = order.map(|(i, param)| {
        let binding = &bindings[i];
        let ty = &param.ty;
        let (name, presence) = match &param.kind {
            ParamKind::Wire { name, optional: true, default: None } => {
                (name.clone(), quote!(#p::Presence::Optional))
            }
            ParamKind::Wire { name, default: Some(default), .. } => (
                name.clone(),
                quote!(#p::Presence::Default(|| ::core::convert::Into::into(#default))),
            ),
            ParamKind::Wire { name, .. } => (name.clone(), quote!(#p::Presence::Required)),
            _ => (String::new(), quote!(#p::Presence::Required)),
        };
        let take = quote_spanned! {ty.span()=>
            <#ty as #p::FromParam<_>>::from_param(&mut parts, #name, #presence)
        };
        quote! {
            let #binding = match #take {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(e) => return #p::Box::pin(::core::future::ready(::core::result::Result::Err(e))),
            };
        }
    });
    let reply = match method.returns {
        Returns::Result(_) => quote!(#p::reply_result),
        Returns::Unit | Returns::Plain(_) => quote!(#p::reply_plain),
    };
    quote! {
        router.call_fn(#uri, {
            let this = #p::Arc::clone(&self);
            move |call: #p::Call| -> #p::CallFuture {
                let mut parts = #p::CallParts::for_function(call, #function);
                #(#fills)*
                if let ::core::result::Result::Err(e) = parts.finish() {
                    return #p::Box::pin(::core::future::ready(::core::result::Result::Err(e)));
                }
                let this = #p::Arc::clone(&this);
                #p::Box::pin(async move { #reply(this.#ident(#(#bindings),*).await) })
            }
        })
    }
}
