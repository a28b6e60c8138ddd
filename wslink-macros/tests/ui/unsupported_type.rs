struct P;

struct NotOnTheWire;

#[wslink::protocol]
impl P {
    #[rpc("p.take")]
    async fn take(&self, thing: NotOnTheWire) -> u64 {
        let _ = thing;
        0
    }
}

fn main() {}
