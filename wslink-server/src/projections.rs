//! The distinct forms one publication takes under server-side subscriptions, each
//! encoded once per wire generation however many connections receive it.

use std::sync::Arc;

use wslink_core::filter::project;
use wslink_core::{CodecError, Encoded, Generation, Message, Publication, Value};

use crate::subscriptions::Route;

/// One form: the payload whole (`None`) or keeping some keys.
struct Form {
    fields: Option<Arc<[String]>>,
    message: Message,
    encoded: [Option<Encoded>; 2],
}

/// The forms of one publication built so far.
pub(crate) struct Projections {
    topic: String,
    counter: u64,
    data: Value,
    forms: Vec<Form>,
}

/// Where a connection's frames are: form, then generation.
pub(crate) type Slot = (usize, usize);

impl Projections {
    pub(crate) fn new(topic: &str, counter: u64, data: Value) -> Projections {
        Projections {
            topic: topic.to_owned(),
            counter,
            data,
            forms: Vec::new(),
        }
    }

    /// The publication's payload, whole.
    pub(crate) fn data(&self) -> &Value {
        &self.data
    }

    /// The slot holding what a connection on `route` and `generation` receives,
    /// encoding it with `encode` the first time it is needed.
    pub(crate) fn slot(
        &mut self,
        route: &Route,
        generation: Generation,
        encode: impl FnOnce(&Message) -> Result<Encoded, CodecError>,
    ) -> Result<Slot, CodecError> {
        let fields = match route {
            Route::Fields(fields) => Some(fields),
            _ => None,
        };
        let form = match self.forms.iter().position(|f| f.fields.as_ref() == fields) {
            Some(index) => index,
            None => {
                let data = project(&self.data, fields.map(|f| f.as_ref()));
                self.forms.push(Form {
                    fields: fields.cloned(),
                    message: Message::Publication(Publication {
                        topic: self.topic.clone(),
                        counter: self.counter,
                        data,
                    }),
                    encoded: [None, None],
                });
                self.forms.len() - 1
            }
        };
        let index = generation_index(generation);
        let entry = &mut self.forms[form];
        if entry.encoded[index].is_none() {
            entry.encoded[index] = Some(encode(&entry.message)?);
        }
        Ok((form, index))
    }

    /// The frames of a slot returned by [`Projections::slot`].
    pub(crate) fn encoded(&self, (form, index): Slot) -> &Encoded {
        self.forms[form].encoded[index]
            .as_ref()
            .expect("slot() encoded it")
    }
}

fn generation_index(generation: Generation) -> usize {
    match generation {
        Generation::V1 => 0,
        Generation::V2 => 1,
    }
}
