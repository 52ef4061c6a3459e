package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v3"
)

func operationsCommand() *cli.Command {
	return &cli.Command{
		Name:  "operations",
		Usage: "the trusted documents (operations/*.graphql) the server accepts",
		Commands: []*cli.Command{{
			Name: "list",
			Usage: "print each trusted document's id, name, kind and the access it needs, " +
				"derived from the schema's directives on the fields it selects",
			Action: func(_ context.Context, cmd *cli.Command) error {
				docs, err := loadTrustedDocuments(operationsFS)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
				_, _ = fmt.Fprintln(tw, "ID\tNAME\tKIND\tREQUIRES\tFILE")
				for _, d := range docs.List() {
					_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.ID, d.Name, d.Kind, d.Access(), d.File)
				}
				return tw.Flush()
			},
		}},
	}
}
