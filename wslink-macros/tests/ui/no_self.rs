struct P;

#[wslink::protocol]
impl P {
    #[rpc("p.free")]
    async fn free(x: u64) -> u64 {
        x
    }
}

fn main() {}
