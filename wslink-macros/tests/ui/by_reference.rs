struct P;

#[wslink::protocol]
impl P {
    #[rpc("p.len")]
    async fn len(&self, text: &str) -> usize {
        text.len()
    }
}

fn main() {}
