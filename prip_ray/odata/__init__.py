"""OData v4 / CSC query language: $filter parser, query options, serialisation, CSDL."""
