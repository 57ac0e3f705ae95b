// Command chainsmithdiff runs Tekton Chains' own type-hinting code on chainsmith's differential cases and prints
// what Chains extracts, so chainsmith's TypeScript extraction can be compared with it (../chains-diff.test.ts).
// It uses Chains' internal packages, so it must live inside a tektoncd/chains checkout; see README.md.
package main

import (
	"context"
	"encoding/json"
	"os"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/common"
	"github.com/tektoncd/chains/pkg/artifacts"
	"github.com/tektoncd/chains/pkg/chains/formats/slsa/extract"
	"github.com/tektoncd/chains/pkg/chains/formats/slsa/internal/material"
	"github.com/tektoncd/chains/pkg/chains/formats/slsa/internal/slsaconfig"
	v2pr "github.com/tektoncd/chains/pkg/chains/formats/slsa/v2alpha4/internal/pipelinerun"
	v2tr "github.com/tektoncd/chains/pkg/chains/formats/slsa/v2alpha4/internal/taskrun"
	"github.com/tektoncd/chains/pkg/chains/objects"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

type caseIn struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	Run      json.RawMessage `json:"run"`
	Children []v1.TaskRun    `json:"children,omitempty"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

type materialOut struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
}

type caseOut struct {
	ID string `json:"id"`
	// TaskRun
	Images           []string   `json:"images,omitempty"`
	SubjectsV02      []subject  `json:"subjectsV02"`
	SubjectsV2alpha4 []subject  `json:"subjectsV2alpha4"`
	Materials        []materialOut `json:"materials"`
	MaterialsError   bool       `json:"materialsError,omitempty"`
	StepActionInputs []materialOut `json:"stepActionInputs,omitempty"`
	// PipelineRun with deep inspection
	DeepSubjectsV02      []subject  `json:"deepSubjectsV02,omitempty"`
	DeepSubjectsV2alpha4 []subject  `json:"deepSubjectsV2alpha4,omitempty"`
	DeepMaterials        []materialOut `json:"deepMaterials,omitempty"`
}

func subjects(rds []*intoto.ResourceDescriptor) []subject {
	out := []subject{}
	for _, r := range rds {
		out = append(out, subject{Name: r.Name, Digest: r.Digest})
	}
	// Chains iterates Go maps, so its order is random: sort (chainsmith's order is tested elsewhere).
	sort.Slice(out, func(i, j int) bool {
		a, _ := json.Marshal(out[i])
		b, _ := json.Marshal(out[j])
		return string(a) < string(b)
	})
	return out
}

func materials(ms []common.ProvenanceMaterial) []materialOut {
	out := []materialOut{}
	for _, m := range ms {
		out = append(out, materialOut{URI: m.URI, Digest: m.Digest})
	}
	return out
}

func main() {
	ctx := context.Background()
	var cases []caseIn
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	outs := []caseOut{}
	for _, c := range cases {
		o := caseOut{ID: c.ID}
		shallow := &slsaconfig.SlsaConfig{DeepInspectionEnabled: false}
		deep := &slsaconfig.SlsaConfig{DeepInspectionEnabled: true}
		if c.Kind == "TaskRun" {
			tr := &v1.TaskRun{}
			if err := json.Unmarshal(c.Run, tr); err != nil {
				panic(err)
			}
			tro := objects.NewTaskRunObjectV1(tr)
			for _, i := range artifacts.ExtractOCIImagesFromResults(ctx, tro.GetResults()) {
				o.Images = append(o.Images, i.(name.Digest).Name())
			}
			sort.Strings(o.Images)
			o.SubjectsV02 = subjects(extract.SubjectDigests(ctx, tro, shallow))
			o.SubjectsV2alpha4 = subjects(v2tr.SubjectDigests(ctx, tro))
			mats, err := material.TaskMaterials(ctx, tro)
			o.Materials, o.MaterialsError = materials(mats), err != nil
			o.StepActionInputs = materials(material.FromStepActionsResults(ctx, tro))
		} else {
			build := func() *objects.PipelineRunObjectV1 {
				pr := &v1.PipelineRun{}
				if err := json.Unmarshal(c.Run, pr); err != nil {
					panic(err)
				}
				pro := objects.NewPipelineRunObjectV1(pr)
				for i := range c.Children {
					pro.AppendTaskRun(&c.Children[i])
				}
				return pro
			}
			o.SubjectsV02 = subjects(extract.SubjectDigests(ctx, build(), shallow))
			o.DeepSubjectsV02 = subjects(extract.SubjectDigests(ctx, build(), deep))
			o.SubjectsV2alpha4 = subjects(v2pr.SubjectDigests(ctx, build(), shallow))
			o.DeepSubjectsV2alpha4 = subjects(v2pr.SubjectDigests(ctx, build(), deep))
			mats, err := material.PipelineMaterials(ctx, build(), shallow)
			o.Materials, o.MaterialsError = materials(mats), err != nil
			dmats, _ := material.PipelineMaterials(ctx, build(), deep)
			o.DeepMaterials = materials(dmats)
		}
		outs = append(outs, o)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(outs); err != nil {
		panic(err)
	}
}
