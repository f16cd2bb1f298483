"""HTTP gateway: authentication, authorisation, marshmallow schemas, the error contract, OpenAPI."""
