"""OTLP receivers: gRPC and HTTP (protobuf and JSON bodies) feeding one pipeline."""
