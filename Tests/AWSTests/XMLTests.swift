import Testing
@testable import AWS

@Suite struct XMLTests {
    @Test func xmlParser_whenElementsHaveNamespaces_matchesByLocalName() throws {
        let root = try XMLElement.parse(#"<?xml version="1.0"?><a:Root xmlns:a="urn:x"><a:Child k="v">text</a:Child></a:Root>"#)
        #expect(root.localName == "Root")
        #expect(root.child("Child")?.text == "text")
        #expect(root.child("Child")?.attribute("k") == "v")
    }
}
