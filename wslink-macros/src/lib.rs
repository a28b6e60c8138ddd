//! `#[wslink::protocol]`: write a wslink server the way a Python `LinkProtocol` class
//! with `@exportRPC` methods is written, and get a typed client from the same code.
//!
//! Put the attribute on an `impl` block; mark each exported method with `#[rpc("uri")]`.
//! The struct is the protocol's state, shared by every call (`&self`). Parameters after
//! `&self` are wire arguments — filled by position or by name, as Python fills them — or
//! extractors (`Context`, `State<T>`, `Extension<T>`, `Auth<T>`, `Kwargs<T>` for the
//! keyword arguments left over, `Args` for the positional ones). `Option<T>` parameters,
//! and parameters with `#[default(expr)]` (`#[default]` for `Default::default()`), may be
//! left out. A parameter of your own extractor type is marked `#[extract]`.
//!
//! Constants `#[topic] const NAME: Topic<T> = Topic::new("…");` declare what the protocol
//! publishes. With `client = Name`, the macro also writes `Name`: a wrapper over the
//! Rust client with one async method per exported method (same parameters, minus the
//! extractors; optional ones as `Option`) and `subscribe_<const>()` per topic. Leave
//! `client` out where no client is needed, and nothing of it is compiled.
//!
//! ```
//! use std::sync::atomic::{AtomicI64, Ordering};
//! use wslink::server::{Context, Server};
//! use wslink::{RpcError, Topic};
//!
//! #[derive(Default)]
//! pub struct Counter {
//!     total: AtomicI64,
//! }
//!
//! #[wslink::protocol(client = CounterClient)]
//! impl Counter {
//!     /// The running total, after each change.
//!     #[topic]
//!     pub const TOTAL: Topic<i64> = Topic::new("counter.total");
//!
//!     /// Adds `by` (1 unless given) and publishes the total.
//!     #[rpc("counter.add")]
//!     pub async fn add(&self, ctx: Context, #[default(1)] by: i64) -> Result<i64, RpcError> {
//!         let total = self.total.fetch_add(by, Ordering::Relaxed) + by;
//!         ctx.publish(&Self::TOTAL, total).await?;
//!         Ok(total)
//!     }
//!
//!     /// The total.
//!     #[rpc("counter.get")]
//!     pub async fn get(&self) -> i64 {
//!         self.total.load(Ordering::Relaxed)
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let server = Server::builder().protocol(Counter::default()).build();
//! let (listener, connector) = wslink::memory::listener(4);
//! tokio::spawn(server.serve(listener));
//!
//! let client = wslink::client::Client::connect(connector.connect().await.unwrap(), "wslink-secret")
//!     .await
//!     .unwrap();
//! let counter = CounterClient::new(client);
//! let mut totals = counter.subscribe_total().unwrap();
//! assert_eq!(counter.add(Some(5)).await.unwrap(), 5);
//! assert_eq!(counter.add(None).await.unwrap(), 6);
//! assert_eq!(totals.recv().await.unwrap().unwrap(), 5);
//! assert_eq!(counter.get().await.unwrap(), 6);
//! # });
//! ```
//!
//! Options: `client = Name` (write a typed client), `crate = path` (where the `wslink`
//! facade is, `::wslink` unless said; any path with `server` and `client` modules).
//!
//! Mistakes are compile errors that say what to write instead: a method that is not
//! `async`, a missing `&self`, a parameter taken by reference, a type that is neither a
//! wire argument nor an extractor, a URI exported twice, a URI or topic the JS client
//! cannot use.

mod client;
mod model;
mod server;

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Ident, ItemImpl, Path};

/// Exports the `#[rpc("uri")]` methods of an `impl` block as a wslink protocol; see the
/// [crate docs](crate).
#[proc_macro_attribute]
pub fn protocol(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| options.parse(meta));
    parse_macro_input!(attr with parser);
    let mut item = parse_macro_input!(item as ItemImpl);
    match expand(&options, &mut item) {
        Ok(tokens) => tokens.into(),
        Err(e) => {
            let error = e.to_compile_error();
            quote!(#item #error).into()
        }
    }
}

#[derive(Default)]
struct Options {
    client: Option<Ident>,
    krate: Option<Path>,
}

impl Options {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
        if meta.path.is_ident("client") {
            self.client = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            self.krate = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("unknown option: expected `client = Name` or `crate = path`"))
        }
    }
}

fn expand(options: &Options, item: &mut ItemImpl) -> syn::Result<proc_macro2::TokenStream> {
    if let Some((_, path, _)) = &item.trait_ {
        return Err(syn::Error::new_spanned(
            path,
            "#[wslink::protocol] goes on an inherent impl block (`impl MyProtocol { … }`)",
        ));
    }
    let model = model::ProtocolModel::read(item)?;
    let krate = options
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::wslink));
    let self_ty = &*item.self_ty;
    let protocol = server::protocol_impl(&krate, self_ty, &model);
    let client = options
        .client
        .as_ref()
        .map(|name| client::typed_client(&krate, self_ty, name, &model));
    Ok(quote! {
        #item
        #protocol
        #client
    })
}
