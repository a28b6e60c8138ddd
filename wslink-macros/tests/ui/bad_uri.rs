struct P;

#[wslink::protocol]
impl P {
    #[rpc("p/now")]
    async fn now(&self) -> u64 {
        0
    }
}

fn main() {}
