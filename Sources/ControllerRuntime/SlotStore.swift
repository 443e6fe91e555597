import JSON

/// The storage behind `ObjectCache`: objects in an array of slots, a key → slot map, and
/// every index as value → set of slot numbers.
///
/// Why slots: with tens of thousands of children, an index entry as a 4-byte slot number
/// instead of a 32-byte `ObjectKey` (two strings), and metadata packed into one blob instead
/// of a labels dictionary and an owner-reference array per object, is most of the cache's
/// memory besides the payloads themselves.
///
/// Guarantees: after every `upsert`, `remove` and `init(rebuilding:)`, each stored object is
/// found under exactly the values its indexes give for it, and under no other
/// (`inconsistencies` is empty). Freed slots are reused before the array grows.
struct SlotStore<Payload: Sendable>: Sendable {
    let indexes: [StoreIndex<Payload>]
    private var slots: [PackedObject<Payload>?] = []
    private var freeSlots: [Int32] = []
    /// Open-addressing hash table from key to slot (keys are read from the slots): 4 bytes
    /// per bucket instead of a dictionary entry holding another copy of the `ObjectKey`.
    private var buckets: [Int32] = []
    private var liveBuckets = 0
    private var deletedBuckets = 0
    private static var emptyBucket: Int32 { -1 }
    private static var deletedBucket: Int32 { -2 }
    /// One table per entry of `indexes`, same order.
    private var postings: [[String: SlotPostings]]
    var synced = false

    init(indexes: [StoreIndex<Payload>], capacity: Int = 0) {
        self.indexes = indexes
        postings = Array(repeating: [:], count: indexes.count)
        slots.reserveCapacity(capacity)
        rehash(toHold: capacity)
    }

    var count: Int { liveBuckets }

    /// Slots ever allocated (live plus free): shows reuse in tests.
    var slotCapacityInUse: Int { slots.count }

    func get(_ key: ObjectKey) -> CachedObject<Payload>? {
        slot(of: key).flatMap { slots[Int($0)]?.unpacked }
    }

    func contains(_ key: ObjectKey) -> Bool { slot(of: key) != nil }

    /// Every object, in no particular order.
    func all() -> [CachedObject<Payload>] {
        var objects: [CachedObject<Payload>] = []
        objects.reserveCapacity(count)
        for slot in slots { if let slot { objects.append(slot.unpacked) } }
        return objects
    }

    /// Every stored key, in no particular order.
    var keys: [ObjectKey] { slots.compactMap { $0?.key } }

    /// Objects under `value` in the index called `name`; nil for an unknown index.
    func objects(inIndex name: String, value: String) -> [CachedObject<Payload>]? {
        guard let position = indexes.firstIndex(where: { $0.name == name }) else { return nil }
        return (postings[position][value]?.slots ?? []).compactMap { slots[Int($0)]?.unpacked }
    }

    /// Keys under `value` in the index called `name`, without unpacking the objects.
    func keys(inIndex name: String, value: String) -> [ObjectKey] {
        guard let position = indexes.firstIndex(where: { $0.name == name }) else { return [] }
        return (postings[position][value]?.slots ?? []).compactMap { slots[Int($0)]?.key }
    }

    /// Stores `object`, returning what it replaced.
    @discardableResult
    mutating func upsert(_ object: CachedObject<Payload>) -> CachedObject<Payload>? {
        if let slot = slot(of: object.key) {
            let old = slots[Int(slot)]!.unpacked
            unindex(old, at: slot)
            slots[Int(slot)] = PackedObject(object)
            index(object, at: slot)
            return old
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            slots[Int(slot)] = PackedObject(object)
        } else {
            slot = Int32(slots.count)
            slots.append(PackedObject(object))
        }
        insertBucket(slot, for: object.key)
        index(object, at: slot)
        return nil
    }

    /// Removes the object at `key`, returning it.
    @discardableResult
    mutating func remove(_ key: ObjectKey) -> CachedObject<Payload>? {
        guard let bucket = bucket(of: key) else { return nil }
        let slot = buckets[bucket]
        buckets[bucket] = Self.deletedBucket
        liveBuckets -= 1
        deletedBuckets += 1
        guard let packed = slots[Int(slot)] else { return nil }
        let old = packed.unpacked
        unindex(old, at: slot)
        slots[Int(slot)] = nil
        if Int(slot) == slots.count - 1 {
            slots.removeLast()
        } else {
            freeSlots.append(slot)
        }
        return old
    }

    private func slot(of key: ObjectKey) -> Int32? {
        bucket(of: key).map { buckets[$0] }
    }

    private func bucket(of key: ObjectKey) -> Int? {
        guard !buckets.isEmpty else { return nil }
        let mask = buckets.count - 1
        var position = key.hashValue & mask
        // Terminates: the load limit in insertBucket always leaves an empty bucket.
        while true {
            let slot = buckets[position]
            if slot == Self.emptyBucket { return nil }
            if slot >= 0, slots[Int(slot)]?.key == key { return position }
            position = (position + 1) & mask
        }
    }

    private mutating func insertBucket(_ slot: Int32, for key: ObjectKey) {
        if (liveBuckets + deletedBuckets + 1) * 4 > buckets.count * 3 { rehash(toHold: liveBuckets + 1) }
        let mask = buckets.count - 1
        var position = key.hashValue & mask
        while buckets[position] >= 0 { position = (position + 1) & mask }
        if buckets[position] == Self.deletedBucket { deletedBuckets -= 1 }
        buckets[position] = slot
        liveBuckets += 1
    }

    /// Rebuilds the table with room for `count` keys at most 3/4 full, dropping deleted marks.
    private mutating func rehash(toHold count: Int) {
        var capacity = 16
        while capacity * 3 < max(count, liveBuckets) * 4 { capacity *= 2 }
        let old = buckets
        buckets = Array(repeating: Self.emptyBucket, count: capacity)
        deletedBuckets = 0
        let mask = capacity - 1
        for slot in old where slot >= 0 {
            guard let key = slots[Int(slot)]?.key else { continue }
            var position = key.hashValue & mask
            while buckets[position] >= 0 { position = (position + 1) & mask }
            buckets[position] = slot
        }
    }

    private mutating func index(_ object: CachedObject<Payload>, at slot: Int32) {
        for position in indexes.indices {
            for value in indexes[position].values(object) {
                if let existing = postings[position][value] {
                    postings[position][value] = existing.adding(slot)
                } else {
                    postings[position][value] = .one(slot)
                }
            }
        }
    }

    private mutating func unindex(_ object: CachedObject<Payload>, at slot: Int32) {
        for position in indexes.indices {
            for value in indexes[position].values(object) {
                postings[position][value] = postings[position][value]?.removing(slot)
            }
        }
    }

    /// Disagreements between objects, keys, free slots and indexes; empty when consistent.
    /// For tests: the guarantee above, checked from scratch.
    var inconsistencies: [String] {
        var problems: [String] = []
        var expected = Array(repeating: [String: Set<Int32>](), count: indexes.count)
        var live = 0
        for (position, slot) in buckets.enumerated() where slot >= 0 {
            live += 1
            guard slots.indices.contains(Int(slot)), let packed = slots[Int(slot)] else {
                problems.append("bucket \(position) points at empty slot \(slot)")
                continue
            }
            if bucket(of: packed.key) != position { problems.append("\(packed.key) is not found at its bucket \(position)") }
            let object = packed.unpacked
            for position in indexes.indices {
                for value in indexes[position].values(object) { expected[position][value, default: []].insert(slot) }
            }
        }
        let occupied = slots.indices.filter { slots[$0] != nil }.count
        if occupied != live || live != liveBuckets { problems.append("\(occupied) occupied slots for \(live) keys (counted \(liveBuckets))") }
        for free in freeSlots where slots.indices.contains(Int(free)) && slots[Int(free)] != nil {
            problems.append("free slot \(free) is occupied")
        }
        if Set(freeSlots).count != freeSlots.count { problems.append("a slot is free twice") }
        for position in indexes.indices where expected[position] != postings[position].mapValues({ Set($0.slots) }) {
            problems.append("index \(indexes[position].name) disagrees with the objects")
        }
        return problems
    }
}

/// One object as a slot holds it: key, UID and version inline, the rest of the metadata
/// (labels, owner references, finalizers) as one `PackedJSON` blob, empty when there is none.
struct PackedObject<Payload: Sendable>: Sendable {
    let key: ObjectKey
    let uid: ObjectUID
    let resourceVersion: String
    let generation: Int64
    let isBeingDeleted: Bool
    let extras: [UInt8]
    let payload: Payload

    init(_ object: CachedObject<Payload>) {
        let metadata = object.metadata
        // Fresh copies of what was allocated while the list was being parsed: the originals
        // sit among that parse's freed garbage, and moving them lets whole pages go back to
        // the system (malloc_trim after the relist) instead of being pinned by a few bytes.
        key = ObjectKey(namespace: metadata.key.namespace, name: Self.relocated(metadata.key.name))
        uid = metadata.uid
        resourceVersion = metadata.resourceVersion
        generation = metadata.generation
        isBeingDeleted = metadata.isBeingDeleted
        payload = (object.payload as? any RelocatablePayload)?.relocated() as? Payload ?? object.payload
        if metadata.labels.isEmpty && metadata.ownerReferences.isEmpty && metadata.finalizers.isEmpty {
            extras = []
        } else {
            var packed: [String: JSONValue] = [:]
            if !metadata.labels.isEmpty { packed["labels"] = .object(metadata.labels.mapValues(JSONValue.string)) }
            if !metadata.ownerReferences.isEmpty {
                packed["ownerReferences"] = .array(metadata.ownerReferences.map { owner in
                    ["apiVersion": .string(owner.apiVersion), "kind": .string(owner.kind), "name": .string(owner.name), "uid": .string(owner.uid.description), "controller": .bool(owner.controller)]
                })
            }
            if !metadata.finalizers.isEmpty { packed["finalizers"] = .array(metadata.finalizers.map(JSONValue.string)) }
            extras = PackedJSON.encode(.object(packed))
        }
    }

    /// A copy of `text` in its own new allocation (small strings are inline anyway).
    private static func relocated(_ text: String) -> String {
        guard text.utf8.count > 15 else { return text }
        return String(unsafeUninitializedCapacity: text.utf8.count) { buffer in
            _ = buffer.initialize(fromContentsOf: text.utf8)
            return text.utf8.count
        }
    }

    var unpacked: CachedObject<Payload> {
        var metadata = CachedMetadata(key: key, uid: uid, resourceVersion: resourceVersion, generation: generation, isBeingDeleted: isBeingDeleted)
        if !extras.isEmpty, let packed = PackedJSON.decode(extras) {
            for (name, value) in packed["labels"].objectValue ?? [:] { metadata.labels[name] = value.stringValue ?? "" }
            metadata.ownerReferences = (packed["ownerReferences"].arrayValue ?? []).map { owner in
                OwnerRef(apiVersion: owner["apiVersion"].stringValue ?? "", kind: owner["kind"].stringValue ?? "", name: owner["name"].stringValue ?? "",
                         uid: ObjectUID(owner["uid"].stringValue ?? ""), controller: owner["controller"].boolValue ?? false)
            }
            metadata.finalizers = (packed["finalizers"].arrayValue ?? []).map { $0.stringValue ?? "" }
        }
        return CachedObject(metadata: metadata, payload: payload)
    }
}

/// Payloads whose heap storage the cache copies once when storing them (see `PackedObject`).
protocol RelocatablePayload {
    func relocated() -> Self
}

extension CompactJSON: RelocatablePayload {
    func relocated() -> CompactJSON { CompactJSON(packedBytes: bytes) }
}

extension ChildSummary: RelocatablePayload {
    func relocated() -> ChildSummary { ChildSummary(desiredHash: desiredHash, status: status?.relocated()) }
}

/// The slots found under one index value. Most owner UIDs have a single child of a kind
/// (and in some caches every object has its own owner), so one slot is kept inline instead
/// of in a set's heap storage.
enum SlotPostings: Sendable {
    case one(Int32)
    case many(Set<Int32>)

    var slots: [Int32] {
        switch self {
        case .one(let slot): return [slot]
        case .many(let slots): return Array(slots)
        }
    }

    func adding(_ slot: Int32) -> SlotPostings {
        switch self {
        case .one(let existing): return existing == slot ? self : .many([existing, slot])
        case .many(var slots):
            slots.insert(slot)
            return .many(slots)
        }
    }

    /// Nil when `slot` was the last one.
    func removing(_ slot: Int32) -> SlotPostings? {
        switch self {
        case .one(let existing): return existing == slot ? nil : self
        case .many(var slots):
            slots.remove(slot)
            if slots.count == 1, let last = slots.first { return .one(last) }
            return slots.isEmpty ? nil : .many(slots)
        }
    }
}
