// Added to pulumi-language-nodejs v3.68.0 by scripts/build-go-tools.js (not upstream code).
//
// v3.68.0 is the last release whose language host the Go module proxy serves (it then lived in
// the github.com/pulumi/pulumi/sdk/v3 module); its RunPlugin answered "not supported". The
// Pulumi CLI starts Node.js policy packs (`pulumi preview --policy-pack DIR`) through RunPlugin,
// so this does what later language hosts do: run @pulumi/pulumi/cmd/run-plugin, resolved from
// the plugin's directory, with the plugin directory and the engine's arguments, streaming its
// output back. The plugin directory arrives in RunPluginRequest.info (field 5,
// ProgramInfo.program_directory = 2), which v3.68.0's generated types do not know: it is read
// from the request's unknown fields.
package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/shlex"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// stringField returns the first length-delimited field `num` of an encoded message.
func stringField(b []byte, num protowire.Number) ([]byte, bool) {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, false
			}
			if n == num {
				return v, true
			}
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(n, typ, b)
		if m < 0 {
			return nil, false
		}
		b = b[m:]
	}
	return nil, false
}

// pluginDirectory is RunPluginRequest.info.program_directory, else the deprecated program field.
func pluginDirectory(req *pulumirpc.RunPluginRequest) (string, error) {
	if info, ok := stringField(req.ProtoReflect().GetUnknown(), 5); ok {
		if dir, ok := stringField(info, 2); ok && len(dir) > 0 {
			return string(dir), nil
		}
	}
	if req.Program != "" {
		return req.Program, nil
	}
	return "", errors.New("RunPlugin: the request names no plugin directory (info.program_directory)")
}

func (host *nodeLanguageHost) runPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	dir, err := pluginDirectory(req)
	if err != nil {
		return err
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the PATH: %w", err)
	}
	// require.resolve from the plugin's directory, as later language hosts do.
	resolve := exec.Command(nodeBin, "-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-plugin'))")
	resolve.Dir = dir
	out, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("could not find @pulumi/pulumi/cmd/run-plugin from %s (are its dependencies installed?): %w",
			filepath.Clean(dir), err)
	}
	args := []string{strings.TrimSpace(string(out))}
	nodeargs, err := shlex.Split(host.nodeargs)
	if err != nil {
		return err
	}
	args = append(args, nodeargs...)
	args = append(args, dir)
	args = append(args, req.Args...)

	env := req.Env
	if host.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if host.tsconfigpath != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+host.tsconfigpath)
	}

	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = req.Pwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exiterr *exec.ExitError
		if errors.As(err, &exiterr) {
			if status, ok := exiterr.Sys().(syscall.WaitStatus); ok {
				return fmt.Errorf("Program exited with non-zero exit code: %d", status.ExitStatus())
			}
			return fmt.Errorf("Program exited unexpectedly: %w", exiterr)
		}
		return fmt.Errorf("Problem executing plugin program (could not run language executor): %w", err)
	}
	return closer.Close()
}
