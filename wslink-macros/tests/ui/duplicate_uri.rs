struct P;

#[wslink::protocol]
impl P {
    #[rpc("p.now")]
    async fn now(&self) -> u64 {
        0
    }

    #[rpc("p.now")]
    async fn later(&self) -> u64 {
        1
    }
}

fn main() {}
