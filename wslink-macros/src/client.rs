//! The client half: a struct over the Rust client with one async method per exported
//! method and one typed subscription per declared topic.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Path, Type};

use crate::model::{Method, ParamKind, ProtocolModel, Returns, TopicDecl};

/// `struct #name` and its methods.
pub(crate) fn typed_client(
    krate: &Path,
    self_ty: &Type,
    name: &Ident,
    model: &ProtocolModel,
) -> TokenStream {
    let c = quote!(#krate::client::__private);
    let methods = model.methods.iter().map(|m| call_method(&c, m));
    let topics = model
        .topics
        .iter()
        .map(|t| subscribe_method(&c, self_ty, t));
    let doc = format!(
        "A typed client of [`{}`]: its exported methods as async methods, its topics as typed subscriptions.",
        quote!(#self_ty).to_string().replace(' ', "")
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #name {
            client: #c::Client,
        }

        impl #name {
            /// Calls through `client` (connected and past its hello).
            pub fn new(client: #c::Client) -> Self {
                #name { client }
            }

            /// The client underneath.
            pub fn client(&self) -> &#c::Client {
                &self.client
            }

            /// Gives the client underneath back.
            pub fn into_inner(self) -> #c::Client {
                self.client
            }

            #(#methods)*
            #(#topics)*
        }

        impl ::core::convert::From<#c::Client> for #name {
            fn from(client: #c::Client) -> Self {
                #name::new(client)
            }
        }
    }
}

fn call_method(c: &TokenStream, method: &Method) -> TokenStream {
    let ident = &method.ident;
    let uri = &method.uri;
    let docs = &method.docs;
    let mut params = Vec::new();
    let mut pushes = Vec::new();
    for (i, param) in method.params.iter().enumerate() {
        let ty = &param.ty;
        match &param.kind {
            ParamKind::Wire {
                name,
                optional,
                default,
            } => {
                let arg = format_ident!("{}", name_ident(name, i));
                if *optional {
                    params.push(quote!(#arg: #ty));
                    pushes.push(quote!(__arguments.optional(#name, #arg)?;));
                } else if default.is_some() {
                    params.push(quote!(#arg: ::core::option::Option<#ty>));
                    pushes.push(quote!(__arguments.optional(#name, #arg)?;));
                } else {
                    params.push(quote!(#arg: #ty));
                    pushes.push(quote!(__arguments.required(#name, #arg)?;));
                }
            }
            ParamKind::RestArgs => {
                params.push(quote!(args: ::std::vec::Vec<#c::Value>));
                pushes.push(quote!(__arguments.rest(args);));
            }
            ParamKind::RestKwargs => {
                let inner =
                    crate::model::first_generic(ty).map_or_else(|| quote!(#c::Map), |t| quote!(#t));
                params.push(quote!(kwargs: #inner));
                pushes.push(quote!(__arguments.keywords(kwargs)?;));
            }
            ParamKind::Extractor => {}
        }
    }
    let output = match &method.returns {
        Returns::Unit => quote!(()),
        Returns::Result(ok) => quote!(#ok),
        Returns::Plain(ty) => quote!(#ty),
    };
    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = concat!("Calls `", #uri, "`.")]
        pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<#output, #c::ClientError> {
            let mut __arguments = #c::Arguments::new();
            #(#pushes)*
            __arguments.call_as(&self.client, #uri).await
        }
    }
}

/// A Rust name for a wire parameter (its keyword may be a Rust keyword, `r#type`).
fn name_ident(name: &str, index: usize) -> String {
    if syn::parse_str::<Ident>(name).is_ok() {
        name.to_owned()
    } else {
        format!("arg{index}")
    }
}

fn subscribe_method(c: &TokenStream, self_ty: &Type, topic: &TopicDecl) -> TokenStream {
    let konst = &topic.ident;
    let payload = &topic.payload;
    let docs = &topic.docs;
    let method = format_ident!("subscribe_{}", konst.to_string().to_lowercase());
    quote! {
        #(#docs)*
        #[doc = ""]
        #[doc = "Subscribes to this topic; publications arrive converted."]
        pub fn #method(&self) -> ::core::result::Result<#c::TypedSubscription<#payload>, #c::ClientError> {
            self.client.subscribe_to(<#self_ty>::#konst)
        }
    }
}
