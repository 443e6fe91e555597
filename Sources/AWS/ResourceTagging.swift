/// The Query tagging operations RDS and ElastiCache share word for word (AddTagsToResource,
/// RemoveTagsFromResource, ListTagsForResource: `ResourceName` plus `Tags.Tag.N` or
/// `TagKeys.member.N`, answered with a `TagList`), so both clients send them through here.
extension AWSClient {
    func addTags(_ tags: [AWSTag], toResource arn: String, service: AWSService) async throws(AWSError) {
        var p = QueryParameters(action: "AddTagsToResource", version: service.apiVersion)
        p.add("ResourceName", arn)
        p.add("Tags", tags: tags, member: "Tag")
        _ = try await query(service, p)
    }

    func removeTags(keys: [String], fromResource arn: String, service: AWSService) async throws(AWSError) {
        var p = QueryParameters(action: "RemoveTagsFromResource", version: service.apiVersion)
        p.add("ResourceName", arn)
        p.add("TagKeys", list: keys)
        _ = try await query(service, p)
    }

    func listTags(ofResource arn: String, service: AWSService) async throws(AWSError) -> [AWSTag] {
        var p = QueryParameters(action: "ListTagsForResource", version: service.apiVersion)
        p.add("ResourceName", arn)
        return RDS.decodeTags(try await query(service, p).child("TagList"))
    }
}
