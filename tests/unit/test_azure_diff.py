"""Only owned keys are compared; what Azure adds or normalises is never a change."""

from libraryops.cloud.diff import diff, overlay


def test_azure_additions_and_spellings_are_not_changes():
    desired = {"location": "East US", "tags": {"env": "lab"}, "properties": {
        "subnets": [{"name": "servers", "properties": {
            "addressPrefix": "10.0.0.0/24",
            "networkSecurityGroup": {"id": "/subscriptions/s/resourceGroups/rg/providers/"
                                           "Microsoft.Network/networkSecurityGroups/nsg"}}}],
        "dhcpOptions": {"dnsServers": []}}}
    current = {"location": "eastus", "etag": 'W/"1"', "tags": {"env": "lab", "other": "x"},
               "properties": {"provisioningState": "Succeeded", "subnets": [
                   {"name": "servers", "id": "/x/subnets/servers", "properties": {
                       "addressPrefix": "10.0.0.0/24", "networkSecurityGroup": {
                           "id": "/subscriptions/s/resourceGroups/RG/providers/"
                                 "Microsoft.Network/networkSecurityGroups/nsg"}}}]}}
    assert diff(current, desired) == []


def test_exclusive_children_report_extras_and_overlay_drops_them():
    desired = {"properties": {"securityRules": [{"name": "a", "properties": {"priority": 100}}]}}
    current = {"properties": {"securityRules": [
        {"name": "a", "properties": {"priority": 100}},
        {"name": "b", "properties": {"priority": 200}}]}}
    assert [c.field for c in diff(current, desired)] == ["securityRules[b]"]
    assert overlay(current, desired) == desired


def test_subnets_not_in_the_spec_are_kept_and_tags_merged():
    desired = {"tags": {"env": "lab"}, "properties": {
        "subnets": [{"name": "a", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}
    current = {"tags": {"owner": "town"}, "properties": {"subnets": [
        {"name": "a", "properties": {"addressPrefix": "10.0.0.0/25"}},
        {"name": "b", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}
    assert [str(c) for c in diff(current, desired)] == [
        "tags.env: (none) → lab", "subnets[a].addressPrefix: 10.0.0.0/25 → 10.0.0.0/24"]
    merged = overlay(current, desired)
    assert merged["tags"] == {"owner": "town", "env": "lab"}
    assert [s["name"] for s in merged["properties"]["subnets"]] == ["a", "b"]
