//! Lookups of ready and pending services, lengths, and keys found through `Equivalent` forms.

use super::*;

#[test]
fn ready_services_by_key_and_by_index() {
    let mut task = task::spawn(());
    let (mut cache, _controls) = ready_gates(&["a", "b"]);
    let (pending, _control) = gate("p", false);
    cache.push("p", pending);
    assert_parked(&mut task, &mut cache);

    let (index, key, service) = cache.get_ready(&"b").unwrap();
    assert_eq!((index, *key, service.label), (1, "b", "b"));
    assert!(cache.get_ready(&"p").is_none(), "pending is not ready");
    assert!(cache.get_ready(&"z").is_none());

    let (key, service) = cache.get_ready_index(0).unwrap();
    assert_eq!((*key, service.label), ("a", "a"));
    assert!(cache.get_ready_index(2).is_none());

    let (index, _, service) = cache.get_ready_mut(&"a").unwrap();
    assert_eq!(index, 0);
    service.label = "A";
    let (key, service) = cache.get_ready_index_mut(1).unwrap();
    assert_eq!(*key, "b");
    service.label = "B";
    assert!(cache.get_ready_mut(&"p").is_none());
    assert!(cache.get_ready_index_mut(5).is_none());
    assert_eq!(ready_labels(&cache), ["A", "B"]);

    for (key, service) in cache.iter_ready_mut() {
        service.label = key;
    }
    let pairs: Vec<_> = cache
        .iter_ready()
        .map(|(key, gate)| (*key, gate.label))
        .collect();
    assert_eq!(pairs, [("a", "a"), ("b", "b")]);
}

#[test]
fn lengths_and_pending_lookups() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    assert!(cache.is_empty());
    assert_eq!(
        (cache.len(), cache.ready_len(), cache.pending_len()),
        (0, 0, 0)
    );
    assert!(!cache.pending_contains(&0));

    let (first, _first_handle) = not_ready_mock();
    cache.push(0, first);
    assert!(!cache.is_empty());
    assert!(cache.pending_contains(&0));
    assert_eq!(
        (cache.len(), cache.ready_len(), cache.pending_len()),
        (1, 0, 1)
    );

    // A second service under the key cancels the first, which is counted
    // until the next poll drops it.
    let (second, _second_handle) = not_ready_mock();
    cache.push(0, second);
    assert_eq!(cache.pending_len(), 2);
    assert!(cache.pending_contains(&0));

    assert!(cache.evict(&0));
    assert!(!cache.pending_contains(&0), "evicted");
    assert_eq!(cache.pending_len(), 2, "not reaped yet");
    assert!(!cache.is_empty());
    assert!(!cache.evict(&0), "nothing left to evict");

    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(cache.is_empty());
    assert_eq!(cache.len(), 0);
}

/// A key of two parts, looked up by borrowed parts.
#[derive(Debug, PartialEq, Eq, Hash, Clone)]
struct Endpoint {
    host: String,
    port: u16,
}

/// The borrowed form of an [`Endpoint`], hashing the same way.
#[derive(Hash)]
struct EndpointRef<'a> {
    host: &'a str,
    port: u16,
}

impl Equivalent<Endpoint> for EndpointRef<'_> {
    fn equivalent(&self, key: &Endpoint) -> bool {
        self.host == key.host && self.port == key.port
    }
}

fn endpoint(host: &str, port: u16) -> Endpoint {
    Endpoint {
        host: host.to_owned(),
        port,
    }
}

#[test]
fn keys_are_looked_up_through_equivalent_forms() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<Endpoint, Gate, Req>::default();
    let (first, _first_control) = gate("first", true);
    let (second, _second_control) = gate("second", false);
    cache.push(endpoint("db", 5432), first);
    cache.push(endpoint("db", 5433), second);
    assert_parked(&mut task, &mut cache);

    let ready = EndpointRef {
        host: "db",
        port: 5432,
    };
    let pending = EndpointRef {
        host: "db",
        port: 5433,
    };
    // A `&K` works, and so does a borrowed form.
    assert!(cache.get_ready(&endpoint("db", 5432)).is_some());
    let (_, key, gate) = cache.get_ready(&ready).unwrap();
    assert_eq!((key, gate.label), (&endpoint("db", 5432), "first"));
    assert!(cache.get_ready_mut(&ready).is_some());
    assert!(cache.pending_contains(&pending));
    assert!(!cache.pending_contains(&ready));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &ready)).unwrap());
    let answer = futures::executor::block_on(cache.call_ready(&ready, "select 1")).unwrap();
    assert_eq!(answer, "first: select 1");
    assert!(cache.evict(&pending));
    assert!(!cache.pending_contains(&pending));
}

#[test]
fn string_keys_are_looked_up_with_a_string() {
    // `Q` is `Sized` in these signatures (as in tower), so a `String` key
    // is looked up with a `&String`, not a `&str`.
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<String, Gate, Req>::default();
    let (service, _control) = gate("s", true);
    cache.push("name".to_owned(), service);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    let key = "name".to_owned();
    assert_eq!(cache.get_ready(&key).unwrap().0, 0);
    assert!(cache.evict(&key));
}
