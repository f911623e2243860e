"""What the tests share: the API called in process, catalogs to import, the stream handed to the counter
function, DynamoDB backends, a fake store, and the IAM policy evaluator of the least-privilege tests."""
