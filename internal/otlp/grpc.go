package otlp

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// grpcService and grpcMethod name OTLP/gRPC's trace export.
const (
	grpcService = "opentelemetry.proto.collector.trace.v1.TraceService"
	grpcMethod  = "Export"
)

// rawCodec hands the handler the message bytes as they came, so that pdata decodes them and a
// malformed message is counted (gRPC's own codec would reject it before any handler ran).
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("otlp grpc: cannot marshal %T", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("otlp grpc: cannot unmarshal into %T", v)
	}
	*p = append((*p)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// GRPCServer makes a gRPC server with the OTLP trace service. Messages up to the body limit are
// decoded and counted; those up to four times over it are rejected as InvalidArgument and
// counted; gRPC itself refuses larger ones (ResourceExhausted) before they are read.
func (r *Receiver) GRPCServer() *grpc.Server {
	s := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.MaxRecvMsgSize(int(4*r.maxBody)))
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: grpcService,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: grpcMethod, Handler: r.grpcExport}},
		Metadata:    "opentelemetry/proto/collector/trace/v1/trace_service.proto",
	}, r)
	return s
}

func (r *Receiver) grpcExport(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	var body []byte
	if err := dec(&body); err != nil {
		r.reject()
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if int64(len(body)) > r.maxBody {
		r.reject()
		return nil, status.Errorf(codes.InvalidArgument, "message larger than %d bytes", r.maxBody)
	}
	er := ptraceotlp.NewExportRequest()
	if err := er.UnmarshalProto(body); err != nil {
		r.reject()
		return nil, status.Errorf(codes.InvalidArgument, "decode OTLP protobuf message: %v", err)
	}
	r.Export(ctx, er)
	resp, err := ptraceotlp.NewExportResponse().MarshalProto()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return resp, nil
}
