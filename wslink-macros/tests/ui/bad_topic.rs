use wslink::Topic;

struct P;

#[wslink::protocol]
impl P {
    #[topic]
    const NEWS: Topic<String> = Topic::new("news feed");
}

fn main() {}
